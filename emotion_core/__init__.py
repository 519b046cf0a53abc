"""Emotion Lens core: emotion recognition from faces, speech and text, with no user-interface code.

Importing the package is cheap: heavy libraries (ONNX Runtime, OpenCV, Keras) load in the modules that use
them, and the public names below are imported on first access.
"""

import importlib
import os

# Keras 3 picks its backend once, at its first import. Torch trained our CNNs fastest on a laptop CPU and is the
# backend that exports ONNX, so it is the default; a user's own KERAS_BACKEND still wins.
os.environ.setdefault("KERAS_BACKEND", "torch")
# librosa compiles its kernels with numba on first use (seconds to a minute); a user-writable cache keeps that to
# the first run, also where site-packages is read-only.
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "emotion_lens", "numba"))

__version__ = "0.1.0"

_PUBLIC = {
    "EMOTIONS": "emotion_core.labels",
    "EMOJI": "emotion_core.labels",
    "to_canonical": "emotion_core.labels",
    "EmotionResult": "emotion_core.result",
    "Settings": "emotion_core.config",
    "EmotionLensError": "emotion_core.errors",
    "InvalidInputError": "emotion_core.errors",
    "ModelUnavailableError": "emotion_core.errors",
    "decode_image": "emotion_core.media",
    "load_detector": "emotion_core.face.detection",
    "MODALITIES": "emotion_core.modalities",
    "FacePredictor": "emotion_core.face.predictor",
    "Predictor": "emotion_core.predictors",
    "load_predictors": "emotion_core.predictors",
    "annotate": "emotion_core.face.overlay",
    "evaluate_face": "emotion_core.evaluation",
    "classification_report": "emotion_core.evaluation",
    "list_cards": "emotion_core.modelcard",
    "run_batch": "emotion_core.batch.runner",
    "BatchOptions": "emotion_core.batch.runner",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'emotion_core' has no attribute {name!r}")
