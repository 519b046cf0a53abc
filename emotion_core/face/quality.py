"""Why a face result should not be trusted: the face is too small, blurred, or seen in profile.

Each test reads what the pipeline has anyway (the detector's box and keypoints, the prepared 48x48 face), and
each threshold was chosen by measurement on FER-2013 PublicTest (the validation split), with
``python -m benchmarks.face_quality`` (results in ``benchmarks/results/face_quality.json``):

- **small**: PublicTest faces shrunk to ``s`` pixels and brought back to 48 lose accuracy as ``s`` falls; below
  :data:`MIN_FACE_SIDE` pixels the model is markedly worse than at FER-2013's native 48.
- **blurred**: the variance of the Laplacian of the prepared face (after histogram equalisation, so it does
  not depend on contrast); Gaussian-blurred PublicTest faces whose sharpness falls below :data:`MIN_SHARPNESS`
  are markedly less accurate.
- **profile**: the nose's horizontal offset from the eyes' midpoint, in units of the eye distance, along the
  eye line (BlazeFace keypoints): about 0 for a frontal face, 0.5 when the nose is in line with one eye.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from emotion_core.face.alignment import FACE_SIZE, FRAMINGS
from emotion_core.face.detection import FaceDetection

MIN_FACE_SIDE = 28
"""Side, in source pixels, of the face square the model's input is resampled from; smaller faces are doubtful.
PublicTest accuracy: 66.2 % at 48 px, 63.3 % at 28, 60.1 % at 24, 51.5 % at 20, 40.7 % at 16 (a BlazeFace box
of 25 px makes a 28 px square)."""

MIN_SHARPNESS = 600.0
"""Variance of the Laplacian of the prepared 48x48 face below which it counts as blurred. PublicTest faces
blurred by 0-3 px: 64.3 % right with a sharpness of 600-1000, 59.8 % at 400-600, 51.8 % at 200-300 (66.2 %
unblurred); 0.03 % of unblurred PublicTest faces fall under 600 (the median is 4,700)."""

MAX_NOSE_OFFSET = 0.4
"""Nose offset (in eye distances) beyond which a face counts as in profile. PublicTest accuracy: 71.4 % for
offsets under 0.1, 60-64 % for 0.1-0.4, 47.8-52.8 % in every band from 0.4 on (236 faces)."""


def face_side(detection: FaceDetection, detector: str) -> float:
    """Side in pixels of the square the model sees: the whole image for a crop, else the FER framing of the box."""
    x, y, w, h = detection.box
    if detection.method == "whole image" or detector not in FRAMINGS:
        return float(max(w, h))
    return FRAMINGS[detector].scale * w


def sharpness(face: np.ndarray) -> float:
    """Variance of the Laplacian of a prepared uint8 face, measured at 48 x 48 whatever the model's input size
    (the threshold was chosen there): low for a blurred (or upscaled) face."""
    import cv2

    if face.shape[:2] != (FACE_SIZE, FACE_SIZE):
        face = cv2.resize(face, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(face, cv2.CV_64F).var())


def nose_offset(landmarks: Mapping[str, tuple[float, float]] | None) -> float | None:
    """How far the nose sits from the eyes' midpoint, along the eye line, in eye distances; None without
    keypoints. 0 for a frontal face; 0.5 puts the nose in line with one eye."""
    if not landmarks or not {"right_eye", "left_eye", "nose"} <= set(landmarks):
        return None
    (rx, ry), (lx, ly), (nx, ny) = landmarks["right_eye"], landmarks["left_eye"], landmarks["nose"]
    eye_distance = math.hypot(lx - rx, ly - ry)
    if eye_distance < 1e-6:
        return math.inf
    along = ((nx - (rx + lx) / 2) * (lx - rx) + (ny - (ry + ly) / 2) * (ly - ry)) / eye_distance
    return abs(along) / eye_distance


def face_doubt(detection: FaceDetection, face: np.ndarray, *, detector: str) -> str | None:
    """The reason a face's result should not be trusted, or None: too small, then blurred, then in profile.

    Parameters
    ----------
    detection : FaceDetection
        Where the face is (box in source pixels, keypoints if the detector gives them).
    face : np.ndarray
        The prepared square uint8 model input of that face.
    detector : str
        The detector's name (its box convention, see :data:`emotion_core.face.alignment.FRAMINGS`).
    """
    side = face_side(detection, detector)
    if side < MIN_FACE_SIDE:
        return f"face too small ({side:.0f} px, under {MIN_FACE_SIDE})"
    sharp = sharpness(face)
    if sharp < MIN_SHARPNESS:
        return f"face blurred (sharpness {sharp:.0f}, under {MIN_SHARPNESS:.0f})"
    offset = nose_offset(detection.landmarks)
    if offset is not None and offset > MAX_NOSE_OFFSET:
        return f"face in profile (nose {offset:.2f} eye distances off centre, over {MAX_NOSE_OFFSET})"
    return None
