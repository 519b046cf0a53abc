"""Facial-expression recognition: detect every face, align it, classify it with our FER-2013 model."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.confidence import apply_temperature
from emotion_core.errors import InvalidInputError
from emotion_core.face.alignment import (
    FACE_SIZE,
    pad_for_detection,
    prepare_detected_face,
    prepare_face_crop,
    to_gray,
    unpad_detection,
)
from emotion_core.face.detection import FaceDetection, FaceDetector, check_image, load_detector
from emotion_core.face.quality import face_doubt
from emotion_core.face.search import find_faces
from emotion_core.labels import EMOTIONS
from emotion_core.modelcard import load_card
from emotion_core.result import EmotionResult

FACE_MODEL = "face_expression"
"""File stem of the shipped face-expression model in ``models/``."""

EYE_LEVELLING_SCORE = 0.5
"""Detections from this score level a crop's eyes: the detectors' threshold when the face model was trained."""


class FacePredictor:
    """Find and classify every face in an image.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        The expression classifier: ``(N, S, S, 1)`` grey faces, float32 in [0, 1], to ``(N, 7)`` probabilities.
        ``S`` (48 for the FER-2013 CNN, 96 for the MobileNetV2) is read from the model's input.
    detector : FaceDetector
        Finds the faces (see :func:`emotion_core.face.detection.load_detector`).
    model_id : str
        The classifier's id, copied into every result.
    flip_average : bool
        Average the probabilities of the face and its mirror image (test-time augmentation).
    temperature : float
        Divides the logits (temperature scaling, fitted on validation data and read from the card's
        ``inference.temperature``); labels do not change, confidences do.

    Examples
    --------
    >>> import cv2, skimage.data
    >>> predictor = FacePredictor.from_dir("models")
    >>> [r.label for r in predictor.predict(cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR))]
    ['happy']
    """

    modality = "face"
    labels = EMOTIONS

    def __init__(self, *, session, detector: FaceDetector, model_id: str, flip_average: bool = True,
                 temperature: float = 1.0):
        self.session = session
        self.detector = detector
        self.model_id = model_id
        self.flip_average = flip_average
        self.temperature = temperature

    @property
    def input_size(self) -> int:
        """The side of the square faces the classifier takes (its input is ``(N, S, S, 1)``); 48 without a
        session (subclasses with a pipeline of their own)."""
        return FACE_SIZE if self.session is None else int(self.session.get_inputs()[0].shape[1])

    @classmethod
    def from_dir(cls, models_dir: str | Path, *, detector: str | FaceDetector = "blazeface",
                 model: str = FACE_MODEL) -> FacePredictor:
        """Load a face model and its card from ``models_dir``.

        ``detector`` is a detector or the name of one whose weights are in ``models_dir`` too.
        """
        from emotion_core.runtime import load_onnx_session

        card = load_card(models_dir, model)
        session = load_onnx_session(Path(models_dir) / f"{model}.onnx")
        return cls(
            session=session,
            detector=load_detector(detector, models_dir=models_dir) if isinstance(detector, str) else detector,
            model_id=card["model_id"],
            flip_average=bool(card.get("inference", {}).get("flip_average", True)),
            temperature=float(card.get("inference", {}).get("temperature", 1.0)),
        )

    def classify(self, faces: np.ndarray) -> np.ndarray:
        """Probabilities ``(N, 7)`` over :data:`EMOTIONS` for prepared faces ``(N, S, S)`` uint8."""
        size = self.input_size
        if faces.ndim != 3 or faces.shape[1:] != (size, size):
            raise InvalidInputError(f"faces: expected shape (N, {size}, {size}), got {faces.shape}.")
        if len(faces) == 0:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32)
        batch = faces.astype(np.float32)[..., None] / 255.0
        if self.flip_average:
            batch = np.concatenate([batch, batch[:, :, ::-1]])
        (probs,) = self.session.run(None, {self.session.get_inputs()[0].name: batch})
        if self.flip_average:
            probs = (probs[: len(faces)] + probs[len(faces):]) / 2
        return apply_temperature(probs / probs.sum(axis=1, keepdims=True), self.temperature)

    def predict(self, image_bgr: np.ndarray, *, close_up: bool = True) -> list[EmotionResult]:
        """One result per face found in a BGR uint8 image (see :func:`~emotion_core.face.search.find_faces`);
        an empty list when there is none."""
        image_bgr = check_image(image_bgr)
        start = time.perf_counter()
        detections = find_faces(self.detector, image_bgr, close_up=close_up)
        probs, doubts = self.assess(image_bgr, detections)
        elapsed_ms = (time.perf_counter() - start) * 1000
        return [self.result(p, d, latency_ms=elapsed_ms, uncertain=u) for d, p, u in zip(detections, probs, doubts)]

    def classify_detections(self, image_bgr: np.ndarray, detections: list[FaceDetection]) -> np.ndarray:
        """Probabilities ``(N, 7)`` for faces already located in ``image_bgr`` (e.g. by a tracker); a
        whole-image face is framed as a face crop."""
        return self.assess(image_bgr, detections)[0]

    def assess(self, image_bgr: np.ndarray,
               detections: list[FaceDetection]) -> tuple[np.ndarray, list[str | None]]:
        """Probabilities ``(N, 7)`` for located faces, and for each the reason to doubt it (too small, blurred,
        in profile: :func:`~emotion_core.face.quality.face_doubt`) or None."""
        if not detections:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32), []
        gray = to_gray(image_bgr)
        size = self.input_size
        faces = np.stack([prepare_face_crop(gray, d, size=size) if d.method == "whole image"
                          else prepare_detected_face(gray, d, self.detector.name, size=size) for d in detections])
        doubts = [face_doubt(d, f, detector=self.detector.name) for d, f in zip(detections, faces)]
        return self.classify(faces), doubts

    def result(self, probs: np.ndarray, detection: FaceDetection, *, extra: Mapping[str, Any] | None = None,
               **fields) -> EmotionResult:
        """An :class:`EmotionResult` for one located face; ``extra["detection"]`` says how it was found."""
        return EmotionResult.from_probabilities(
            probs, modality="face", model_id=self.model_id, box=detection.box, landmarks=detection.landmarks,
            detector_score=detection.score, extra={"detection": detection.method, **(extra or {})}, **fields,
        )

    def predict_crop(self, image_bgr: np.ndarray) -> EmotionResult:
        """Result for an image that is itself a face crop (as in FER-2013): no search, only the eyes levelled."""
        image_bgr = check_image(image_bgr)
        start = time.perf_counter()
        eyes = locate_eyes_in_crop(self.detector, to_gray(image_bgr))
        height, width = image_bgr.shape[:2]
        detection = FaceDetection(box=(0, 0, width, height), score=eyes.score if eyes else None,
                                  landmarks=eyes.landmarks if eyes else None, method="whole image")
        probs, doubts = self.assess(image_bgr, [detection])
        return self.result(probs[0], detection, latency_ms=(time.perf_counter() - start) * 1000, uncertain=doubts[0])


def locate_eyes_in_crop(detector: FaceDetector, gray: np.ndarray) -> FaceDetection | None:
    """The most confident detection in a face crop (padded first, so the detector sees a whole face).

    Training on FER-2013 and :meth:`FacePredictor.predict_crop` both call this, so crops are levelled alike.
    """
    import cv2

    padded = pad_for_detection(gray)
    found = detector.detect(cv2.cvtColor(padded, cv2.COLOR_GRAY2BGR), min_score=EYE_LEVELLING_SCORE)
    if not found:
        return None
    pad = (padded.shape[0] - gray.shape[0]) // 2
    return unpad_detection(max(found, key=lambda d: d.score or 0.0), pad)
