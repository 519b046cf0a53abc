"""Seed 002's hybrid face model: ImageNet MobileNetV2 features + LBP histograms -> Random Forest, on ONNX.

It shares the face pipeline (detection, alignment, equalisation) with
:class:`~emotion_core.face.predictor.FacePredictor` and only replaces the classifier, so it can be chosen
wherever a face model can.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emotion_core.face.lbp import lbp_histograms
from emotion_core.face.predictor import FacePredictor
from emotion_core.labels import EMOTIONS

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
HYBRID_MODEL = "seed002_hybrid"


def imagenet_inputs(faces: np.ndarray, *, size: int = 96) -> np.ndarray:
    """Grey ``(N, 48, 48)`` uint8 faces as MobileNetV2 input ``(N, size, size, 3)``: resized, grey copied into
    the three colour channels, normalised like ImageNet images (torchvision's convention)."""
    import cv2

    resized = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_LINEAR) for f in faces])
    rgb = np.repeat(resized[..., None], 3, axis=-1).astype(np.float32) / 255.0
    return (rgb - IMAGENET_MEAN) / IMAGENET_STD


class HybridFacePredictor(FacePredictor):
    """MobileNetV2 + LBP + Random Forest behind the :class:`FacePredictor` interface.

    Parameters
    ----------
    backbone, forest : onnxruntime.InferenceSession
        The feature extractor (96x96x3 -> 1280) and the forest ([1280 features, 360 LBP] -> class scores).
    classes : sequence of str
        The forest's classes, in its output order.
    """

    def __init__(self, *, backbone, forest, classes: Sequence[str], detector, model_id: str, grid: int = 6,
                 size: int = 96):
        super().__init__(session=None, detector=detector, model_id=model_id, flip_average=False)
        self.backbone = backbone
        self.forest = forest
        self.classes = classes
        self.grid = grid
        self.size = size

    @classmethod
    def from_dir(cls, models_dir: str | Path, *, detector="blazeface", model: str = HYBRID_MODEL):
        from emotion_core.face.detection import load_detector
        from emotion_core.modelcard import load_card
        from emotion_core.runtime import load_onnx_session

        card = load_card(models_dir, model)
        files = card["inference"]["files"]
        return cls(backbone=load_onnx_session(Path(models_dir) / files["backbone"]),
                   forest=load_onnx_session(Path(models_dir) / files["forest"]),
                   classes=card["inference"]["forest_classes"],
                   detector=load_detector(detector, models_dir=models_dir) if isinstance(detector, str) else detector,
                   model_id=card["model_id"], grid=card["inference"]["lbp_grid"],
                   size=card["inference"]["input_size"])

    def classify(self, faces: np.ndarray) -> np.ndarray:
        if len(faces) == 0:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32)
        (features,) = self.backbone.run(None, {self.backbone.get_inputs()[0].name: imagenet_inputs(faces,
                                                                                                   size=self.size)})
        both = np.hstack([features, lbp_histograms(faces, grid=self.grid)]).astype(np.float32)
        outputs = self.forest.run(None, {self.forest.get_inputs()[0].name: both})
        scores = np.asarray(outputs[-1], dtype=np.float32)  # [labels, probabilities]
        probs = np.zeros((len(faces), len(EMOTIONS)), dtype=np.float32)
        for column, label in enumerate(self.classes):
            probs[:, EMOTIONS.index(label)] = scores[:, column]
        return probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-9)
