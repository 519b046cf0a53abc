"""Face detectors: BlazeFace on ONNX Runtime (default) and OpenCV's Haar cascade (the seeds' fallback).

Both find every face in a BGR image and return :class:`FaceDetection` records in pixel coordinates. BlazeFace
also gives six keypoints, which :mod:`emotion_core.alignment` uses to level the eyes. The BlazeFace weights are
MediaPipe's (Apache-2.0), converted to ONNX and shipped in ``models/`` (see their model cards).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from emotion_core.errors import InvalidInputError, ModelUnavailableError

KEYPOINTS = ("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear")
"""BlazeFace keypoint names, from the subject's point of view (the right eye is on the image's left)."""


@dataclass(frozen=True)
class FaceDetection:
    """One face: box ``(x, y, width, height)`` in pixels, confidence, and keypoints when the detector has them."""

    box: tuple[int, int, int, int]
    score: float | None
    landmarks: dict[str, tuple[float, float]] | None = None


class FaceDetector(Protocol):
    name: str

    def detect(self, image_bgr: np.ndarray) -> list[FaceDetection]: ...


@dataclass(frozen=True)
class _BlazeFaceSpec:
    file: str
    input_size: int
    strides: tuple[int, ...]
    anchors_per_cell: tuple[int, ...]


# Anchor layouts of MediaPipe's SSD anchor options for each model: the short-range model has 2 anchors per cell
# on a 16x16 grid and 6 per cell on an 8x8 grid (896), the full-range model one per cell on a 48x48 grid (2304).
_BLAZEFACE_MODELS = {
    "short": _BlazeFaceSpec("blazeface_short_range.onnx", 128, (8, 16), (2, 6)),
    "full": _BlazeFaceSpec("blazeface_full_range.onnx", 192, (4,), (1,)),
}


def _anchor_centres(spec: _BlazeFaceSpec) -> np.ndarray:
    centres = []
    for stride, per_cell in zip(spec.strides, spec.anchors_per_cell):
        cells = spec.input_size // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one ``(x0, y0, x1, y1)`` box against many."""
    ix0 = np.maximum(box[0], boxes[:, 0])
    iy0 = np.maximum(box[1], boxes[:, 1])
    ix1 = np.minimum(box[2], boxes[:, 2])
    iy1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def _weighted_nms(boxes: np.ndarray, points: np.ndarray, scores: np.ndarray, iou_threshold: float):
    """Merge overlapping candidates into their score-weighted mean, as BlazeFace's own pipeline does."""
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    kept = []
    remaining = np.ones(len(scores), dtype=bool)
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        group = remaining & (_iou(boxes[i], boxes) >= iou_threshold)
        weights = scores[group][:, None]
        merged_box = (boxes[group] * weights).sum(0) / weights.sum()
        merged_points = (points[group] * weights[:, :, None]).sum(0) / weights.sum()
        kept.append((merged_box, merged_points, float(scores[i])))
        remaining &= ~group
    return kept


class BlazeFaceDetector:
    """MediaPipe's BlazeFace on ONNX Runtime.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        The loaded model (see :meth:`from_dir`).
    variant : {"full", "short"}
        ``full`` (192 px input) finds faces up to a few metres away; ``short`` (128 px) is tuned for faces
        close to a webcam and is faster.
    min_score : float
        Candidates below this confidence are dropped.
    iou_threshold : float
        Overlap above which candidates are merged into one face.
    """

    def __init__(self, *, session, variant: str = "full", min_score: float = 0.5, iou_threshold: float = 0.3):
        self.session = session
        self.variant = variant
        self.min_score = min_score
        self.iou_threshold = iou_threshold
        self.name = "blazeface" if variant == "full" else f"blazeface-{variant}"
        spec = _BLAZEFACE_MODELS[variant]
        self._size = spec.input_size
        self._anchors = _anchor_centres(spec)
        self._input_name = session.get_inputs()[0].name

    @classmethod
    def from_dir(cls, models_dir: str | Path, *, variant: str = "full", **kwargs) -> BlazeFaceDetector:
        """Load the shipped ONNX weights of one BlazeFace variant from ``models_dir``."""
        from emotion_core.runtime import load_onnx_session

        path = Path(models_dir) / _BLAZEFACE_MODELS[variant].file
        return cls(session=load_onnx_session(path), variant=variant, **kwargs)

    def detect(self, image_bgr: np.ndarray) -> list[FaceDetection]:
        """Find every face; see :class:`FaceDetection`."""
        import cv2

        image_bgr = check_image(image_bgr)
        height, width = image_bgr.shape[:2]
        # Letterbox into a square so the model sees undistorted faces, then scale to [-1, 1] RGB.
        side = max(height, width)
        resized = cv2.resize(image_bgr, (max(1, round(width * self._size / side)),
                                         max(1, round(height * self._size / side))), interpolation=cv2.INTER_AREA)
        canvas = np.zeros((self._size, self._size, 3), dtype=np.uint8)
        oy, ox = (self._size - resized.shape[0]) // 2, (self._size - resized.shape[1]) // 2
        canvas[oy:oy + resized.shape[0], ox:ox + resized.shape[1]] = resized
        tensor = (cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32) / 127.5 - 1.0)[None]
        regressors, logits = self.session.run(None, {self._input_name: tensor})
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[0, :, 0], -80.0, 80.0)))
        keep = scores >= self.min_score
        if not keep.any():
            return []
        raw, anchors, scores = regressors[0, keep] / self._size, self._anchors[keep], scores[keep]
        centre = raw[:, :2] + anchors
        half = raw[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        points = raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]

        # A point u of the letterboxed unit square lies at u * side - offset in the original image.
        offset = np.array([ox, oy], dtype=np.float64) * side / self._size
        faces = []
        for box, pts, score in _weighted_nms(boxes, points, scores, self.iou_threshold):
            corners = np.concatenate([box[:2] * side - offset, box[2:] * side - offset])
            faces.append(_clip_detection(corners, pts * side - offset, score, width, height))
        return [f for f in faces if f is not None]


def _clip_detection(corners, points, score, width, height) -> FaceDetection | None:
    x0, y0, x1, y1 = (float(v) for v in corners)
    x0, y0 = max(0.0, x0), max(0.0, y0)
    x1, y1 = min(float(width), x1), min(float(height), y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    box = (round(x0), round(y0), round(x1 - x0), round(y1 - y0))
    landmarks = {name: (float(x), float(y)) for name, (x, y) in zip(KEYPOINTS, points)}
    return FaceDetection(box=box, score=score, landmarks=landmarks)


class HaarDetector:
    """OpenCV's frontal-face Haar cascade, as the seed papers use it. No keypoints, no score.

    ``detectMultiScale`` is not safe to call from several threads at once, so calls are serialised.
    """

    name = "haar"

    def __init__(self, *, cascade=None, max_side: int = 640, min_face: int = 24, equalize: bool = True):
        self.cascade = cascade
        self.max_side = max_side
        self.min_face = min_face
        self.equalize = equalize
        self._lock = threading.Lock()

    @classmethod
    def from_opencv(cls, **kwargs) -> HaarDetector:
        """Load the cascade file that opencv-python ships."""
        import cv2

        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        cascade = cv2.CascadeClassifier(str(path))
        if cascade.empty():
            raise ModelUnavailableError(f"Haar cascade could not be loaded from {path}.")
        return cls(cascade=cascade, **kwargs)

    def detect(self, image_bgr: np.ndarray) -> list[FaceDetection]:
        import cv2

        image_bgr = check_image(image_bgr)
        height, width = image_bgr.shape[:2]
        factor = min(1.0, self.max_side / max(height, width))
        gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        if factor < 1.0:
            gray = cv2.resize(gray, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA)
        if self.equalize:
            gray = cv2.equalizeHist(gray)
        with self._lock:
            found = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                                  minSize=(self.min_face, self.min_face))
        return [
            FaceDetection(box=tuple(round(v / factor) for v in (x, y, w, h)), score=None)
            for (x, y, w, h) in (found if len(found) else [])
        ]


def check_image(image: np.ndarray) -> np.ndarray:
    """Validate a BGR uint8 image array, as every detector and predictor expects it."""
    if not isinstance(image, np.ndarray):
        raise InvalidInputError(f"image: expected a numpy array, got {type(image).__name__}.")
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidInputError(f"image: expected shape (H, W, 3) BGR, got {image.shape}.")
    if image.dtype != np.uint8:
        raise InvalidInputError(f"image: expected uint8 pixels, got {image.dtype}.")
    if min(image.shape[:2]) < 8:
        raise InvalidInputError(f"image: {image.shape[1]}x{image.shape[0]} pixels is too small to hold a face.")
    return image


DETECTORS = ("blazeface", "blazeface-short", "haar")


def available_detectors() -> tuple[str, ...]:
    """Names accepted by :func:`load_detector`."""
    return DETECTORS


def load_detector(name: str, *, models_dir: str | Path) -> FaceDetector:
    """Build a face detector by name: ``blazeface`` (default), ``blazeface-short`` or ``haar``."""
    if name == "blazeface":
        return BlazeFaceDetector.from_dir(models_dir, variant="full")
    if name == "blazeface-short":
        return BlazeFaceDetector.from_dir(models_dir, variant="short")
    if name == "haar":
        return HaarDetector.from_opencv()
    raise InvalidInputError(f"detector: expected one of {', '.join(DETECTORS)}, got {name!r}.")
