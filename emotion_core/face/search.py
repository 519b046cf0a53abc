"""Where the faces are, looked for the same way by every surface that analyses a photo.

Face detectors learn faces with some surroundings, so a face that fills the image (a profile picture, a data
set's aligned crop) goes unseen: BlazeFace full-range found 12 of RAF-DB's 3,068 test crops (MTCNN, which judges
tight windows, 2,175). When the detector finds nothing, the image is looked at again as a close-up, inside grey
borders of two widths, as it is and mirrored, by the detector's close-range model (BlazeFace short-range for the
BlazeFaces and MTCNN; the cascade itself for Haar), and MTCNN's O-Net is asked whether the whole image, as it is
and mirrored, is one face. Shown a whole image as a close-up, a detector is easily fooled by clutter; the mean of
the looks' best scores tells faces from the rest far better than one look (``benchmarks/detection.py``). One face
that fills the image, whichever look found it, makes it a whole-image face, analysed as a face crop, the framing
the expression model was trained on.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from emotion_core.face.alignment import reframe
from emotion_core.face.detection import FaceDetection, FaceDetector, FaceVerifier

CLOSE_UP_LOOKS = ((0.5, False), (0.5, True), (1.0, False), (1.0, True))
"""Each close-up look: the border on each side, as a fraction of the image's longer side, and whether the image
is mirrored."""

CLOSE_UP_CANDIDATES = 0.3
"""Detections below this score count as no face in a close-up look."""

CLOSE_UP_SCORE = 0.5
"""The mean of the looks' votes from which the close-up holds a face: on the training faces of
``benchmarks/detection.py --split train --sweep`` (results/detection_sweep.json), 97.9 % of tight crops and
headshots reach it and 0.5 in 1,000 images without a face do (at 0.45: 98.4 % and 3.75 in 1,000; the detector's
four looks without O-Net's two, at their former 0.65: 96.4 % and 1.25 in 1,000)."""

WHOLE_IMAGE_SHARE = 0.6
"""A close-up face whose box spans at least this share of the image's width and height is the whole image."""


def find_faces(detector: FaceDetector, image_bgr: np.ndarray, *, close_up: bool = True) -> list[FaceDetection]:
    """Every face in a BGR image, each marked with how it was found (see
    :data:`~emotion_core.face.detection.DETECTION_METHODS`); ``close_up=False`` runs the detector alone.

    Boxes follow ``detector``'s convention whichever model found them; a whole-image face has the image as
    its box and keeps the keypoints that level its eyes; a close-up face's score is the looks' mean.
    """
    faces = detector.detect(image_bgr)
    if not close_up:
        return faces
    height, width = image_bgr.shape[:2]
    if faces:  # one face filling the photo is a headshot, whichever look found it
        return [_whole_image(faces[0], width, height)] if len(faces) == 1 and _fills(faces[0], width, height) else faces
    face, found_by, score = close_up_look(detector.close_up, image_bgr, detector.verifier)
    if face is None or score < CLOSE_UP_SCORE:
        return []
    face = reframe(replace(face, score=None if face.score is None else score), found_by, detector.name)
    return [_whole_image(face, width, height) if _fills(face, width, height) else replace(face, method="close-up")]


def _fills(face: FaceDetection, width: int, height: int) -> bool:
    return face.box[2] >= WHOLE_IMAGE_SHARE * width and face.box[3] >= WHOLE_IMAGE_SHARE * height


def _whole_image(face: FaceDetection, width: int, height: int) -> FaceDetection:
    return replace(face, box=(0, 0, width, height), method="whole image")


def close_up_look(detector: FaceDetector, image_bgr: np.ndarray, verifier: FaceVerifier | None = None
                  ) -> tuple[FaceDetection | None, str, float]:
    """The face of the close-up, the name of the model that found it, and the mean of every look's vote.

    Each of :data:`CLOSE_UP_LOOKS` votes its best score, 0 without a face, 1 for a face from a detector without
    scores (Haar); a ``verifier`` also votes its score for the whole image, as it is and mirrored. The face is the
    first look's best, or the verifier's for the image as it is when that look found none."""
    mirrored = np.ascontiguousarray(image_bgr[:, ::-1])
    best = [max(detector.detect(mirrored if mirror else image_bgr, margin=margin, min_score=CLOSE_UP_CANDIDATES),
                key=lambda face: face.score or 0.0, default=None)
            for margin, mirror in CLOSE_UP_LOOKS]
    face, found_by = best[0], detector.name
    if verifier is not None:
        judged = [verifier.whole_image(image) for image in (image_bgr, mirrored)]
        if face is None:
            face, found_by = judged[0], verifier.name
        best += judged
    votes = [0.0 if look is None else 1.0 if look.score is None else look.score for look in best]
    return face, found_by, float(np.mean(votes))
