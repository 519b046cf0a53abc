"""Turn a detected face into the model's input: FER-2013 framing, eyes level, equalised histogram, 48x48 grey.

Seed 002 describes this pre-processing (detection, alignment, illumination normalisation); the same functions
run when the model is trained on FER-2013 crops and when a photo or video frame is analysed, so the model sees
the same kind of input in both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from emotion_core.face.detection import FaceDetection

FACE_SIZE = 48
"""Side of the model's square grey input, in pixels (FER-2013's native size)."""


@dataclass(frozen=True)
class Framing:
    """Where FER-2013 puts the face relative to a detector's box.

    ``scale`` is the side of the FER-like square as a multiple of the box width; ``shift_y`` moves the square's
    centre down (positive) or up (negative) by that fraction of the box width.
    """

    scale: float
    shift_y: float


# Medians measured by scripts/calibrate_face_crop.py on 1,500 FER-2013 training images, each padded so that the
# detector sees the whole face: FER's square is 12 % wider than BlazeFace's box and sits a little higher.
FRAMINGS: dict[str, Framing] = {
    "blazeface": Framing(scale=1.12, shift_y=-0.04),
    "blazeface-short": Framing(scale=1.17, shift_y=-0.09),
    "mtcnn": Framing(scale=1.23, shift_y=0.0),
    "haar": Framing(scale=1.01, shift_y=0.0),
}


def reframe(detection: FaceDetection, found_by: str, framed_as: str) -> FaceDetection:
    """A box of detector ``found_by`` resized and moved so that :func:`face_square` with ``framed_as`` gives the
    same square: the close-up model's boxes then follow the main detector's convention."""
    if found_by == framed_as:
        return detection
    source, target = FRAMINGS[found_by], FRAMINGS[framed_as]
    x, y, w, h = detection.box
    width = w * source.scale / target.scale
    centre_y = y + h / 2 + source.shift_y * w - target.shift_y * width
    height = h * width / w
    box = (round(x + w / 2 - width / 2), round(centre_y - height / 2), round(width), round(height))
    return replace(detection, box=box)


def eye_angle(landmarks: dict[str, tuple[float, float]] | None) -> float:
    """Roll of the face in degrees (positive: the eye line falls to the image's right); 0 without keypoints."""
    if not landmarks:
        return 0.0
    (rx, ry), (lx, ly) = landmarks["right_eye"], landmarks["left_eye"]
    return math.degrees(math.atan2(ly - ry, lx - rx))


def face_square(detection: FaceDetection, detector: str) -> tuple[float, float, float]:
    """Centre ``(x, y)`` and side of the FER-like square around a detected face."""
    framing = FRAMINGS[detector]
    x, y, w, h = detection.box
    side = framing.scale * w
    return x + w / 2, y + h / 2 + framing.shift_y * w, side


def _cut(gray: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """Slice ``gray[y0:y1, x0:x1]``, mirroring the image where the window leaves it."""
    import cv2

    height, width = gray.shape
    inner = gray[max(y0, 0):min(y1, height), max(x0, 0):min(x1, width)]
    top, left = max(0, -y0), max(0, -x0)
    bottom, right = max(0, y1 - height), max(0, x1 - width)
    if top or left or bottom or right:
        if inner.size == 0:
            return np.zeros((y1 - y0, x1 - x0), dtype=gray.dtype)
        inner = cv2.copyMakeBorder(inner, top, bottom, left, right, cv2.BORDER_REFLECT_101)
    return inner


def align_face(gray: np.ndarray, *, centre: tuple[float, float], side: float, angle: float = 0.0,
               size: int = FACE_SIZE) -> np.ndarray:
    """Cut the square of ``side`` pixels around ``centre``, rotated by ``angle`` degrees, as ``size`` x ``size``.

    The region is shrunk with area averaging before it is rotated, so large faces are not aliased.

    Parameters
    ----------
    gray : np.ndarray
        ``(H, W)`` uint8 grey image.
    centre : (x, y)
        Centre of the face square, in pixels.
    side : float
        Side of the face square, in pixels.
    angle : float
        Roll to undo, in degrees (see :func:`eye_angle`).

    Returns
    -------
    np.ndarray
        ``(size, size)`` uint8.
    """
    import cv2

    cx, cy = centre
    half = side * 0.75  # > side / sqrt(2): the rotated square stays inside
    x0, y0 = math.floor(cx - half), math.floor(cy - half)
    x1, y1 = math.ceil(cx + half), math.ceil(cy + half)
    region = _cut(gray, x0, y0, x1, y1)
    scale = size / side
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(region, (max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale))),
                       interpolation=interpolation)
    sx, sy = small.shape[1] / region.shape[1], small.shape[0] / region.shape[0]
    local = ((cx - x0) * sx, (cy - y0) * sy)
    matrix = cv2.getRotationMatrix2D(local, angle, 1.0)
    matrix[:, 2] += (size / 2 - local[0], size / 2 - local[1])
    return cv2.warpAffine(small, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def normalise_illumination(face: np.ndarray) -> np.ndarray:
    """Histogram equalisation, the seed's illumination normalisation, on a uint8 grey face."""
    import cv2

    return cv2.equalizeHist(face)


def to_gray(image_bgr: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)


def prepare_detected_face(gray: np.ndarray, detection: FaceDetection, detector: str, *,
                          size: int = FACE_SIZE) -> np.ndarray:
    """Model input (``size`` x ``size``) for a face that a detector found in a larger image."""
    cx, cy, side = face_square(detection, detector)
    face = align_face(gray, centre=(cx, cy), side=side, angle=eye_angle(detection.landmarks), size=size)
    return normalise_illumination(face)


def prepare_face_crop(gray: np.ndarray, detection: FaceDetection | None, *, size: int = FACE_SIZE) -> np.ndarray:
    """Model input (``size`` x ``size``) for an image that is already a face crop (FER-2013 style).

    The crop keeps its own framing; a detection, if any, only supplies the eye line to level.
    """
    height, width = gray.shape
    angle = eye_angle(detection.landmarks) if detection is not None else 0.0
    face = align_face(gray, centre=(width / 2, height / 2), side=max(width, height), angle=angle, size=size)
    return normalise_illumination(face)


def pad_for_detection(gray: np.ndarray) -> np.ndarray:
    """A face crop with a black border of its own size, so that a detector sees the whole face.

    Detections on the padded image are in padded coordinates; :func:`unpad_detection` maps them back.
    """
    import cv2

    pad = max(gray.shape)
    return cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)


def unpad_detection(detection: FaceDetection, pad: int) -> FaceDetection:
    x, y, w, h = detection.box
    landmarks = None
    if detection.landmarks:
        landmarks = {k: (px - pad, py - pad) for k, (px, py) in detection.landmarks.items()}
    return FaceDetection(box=(x - pad, y - pad, w, h), score=detection.score, landmarks=landmarks)
