"""Where the faces are, looked for the same way by every surface that analyses a photo.

Face detectors learn faces with some surroundings, so a face that fills the image (a profile picture, a data
set's aligned crop) goes unseen: BlazeFace full-range found 12 of RAF-DB's 3,068 test crops (MTCNN, which judges
tight windows, 2,175); and they learnt upright faces, so a head tilted by 30 degrees or more is often missed. When
the detector finds nothing, it looks again at the photo turned by 30 degrees either way, where a face counts once
O-Net confirms it. When that finds nothing too, the image is looked at again as a close-up, inside grey
borders of two widths, as it is and mirrored, by the detector's close-range model (BlazeFace short-range for the
BlazeFaces and MTCNN; the cascade itself for Haar), and MTCNN's O-Net is asked whether the whole image, as it is
and mirrored, is one face. Shown a whole image as a close-up, a detector is easily fooled by clutter; the mean of
the looks' best scores tells faces from the rest far better than one look (``benchmarks/detection.py``), and a
second judge that learnt from other pictures (:class:`~emotion_core.face.judge.FaceJudge`) settles the doubtful
votes: the surer it sees a face, the weaker the vote a face needs, and it vetoes where it surely sees none. A head
tilted in a tight crop is looked at again turned upright by 30 degrees either way. One face
that fills the image, whichever look found it, makes it a whole-image face, analysed as a face crop, the framing
the expression model was trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import numpy as np

from emotion_core.face.alignment import reframe
from emotion_core.face.detection import FaceDetection, FaceDetector, FaceVerifier

CLOSE_UP_LOOKS = ((0.5, False), (0.5, True), (1.0, False), (1.0, True))
"""Each close-up look: the border on each side, as a fraction of the image's longer side, and whether the image
is mirrored."""

CLOSE_UP_CANDIDATES = 0.3
"""Detections below this score count as no face in a close-up look."""

CLOSE_UP_SCORE = 0.55
"""The mean of the looks' votes from which the close-up holds a face, at any of :data:`CLOSE_UP_ROLLS`. On the
training faces of ``benchmarks/detection.py --split train --sweep --detectors mtcnn``
(results/detection_sweep_mtcnn.json), 98.4 % of tight crops and headshots reach it and 0.25 in 1,000 images
without a face do (0.5: 98.7 % and 2.0; 0.6: 98.0 % and 0); upright alone, the best was 97.9 % at 0.5 in 1,000
(threshold 0.5, results/detection_sweep.json)."""

JUDGED_VOTES = ((0.95, 0.1), (0.5, 0.4), (0.001, CLOSE_UP_SCORE))
"""How the judge (:class:`~emotion_core.face.judge.FaceJudge`, the mean of the image as it is and mirrored) settles a
close-up: each row is a probability and the looks' vote that suffices from it, so the surer the judge, the weaker
the vote a face needs; below the last row's probability no vote is enough (the judge vetoes). The judge is asked only
about votes that some row could accept. Chosen on the training split of ``benchmarks/detection.py --judge-sweep
--non-faces 12000`` with MTCNN (whose close-up looks are BlazeFace's), with a judge that never saw that split's faces,
as the most faces found at no more false faces than the first judge's rule (vote 0.4 from 0.5, veto below 0.001)
with this judge: tight crops and headshots found 99.25 % with that rule, 99.43 % with the sure row added, both at
0.42 false faces in 1,000 images without one (from 0.9 instead of 0.95: 99.48 % at 0.58; a doubtful vote of 0.3
from 0.7 with the sure row from 0.9: 99.54 % at 1.0, generated clutter mostly; results/detection_judge_sweep.json
holds the grid). The first judge (the mean of the network's feature map) with its rule: 99.23 % (4,000 images
without a face, 0.25 in 1,000)."""

CLOSE_UP_ROLLS = (0.0, 30.0, -30.0)
"""Angles in degrees (counter-clockwise) by which the close-up is turned, in turn, until a look holds a face: the
detectors and O-Net learnt upright faces: upright alone, the close-up found 97.0 % of the training split's tight
crops and headshots rolled by 30 degrees against 98.7 % of those as they are (threshold 0.5)."""

TURNED_SCORE = 0.93
"""The score a face found in a photo turned by one of :data:`CLOSE_UP_ROLLS` needs from O-Net (the mean as it is and
mirrored, around the face in MTCNN's framing). Chosen with MTCNN on the training split of
``benchmarks/detection.py``: from 0.93 the turned search added 1 false face in 4,000 images without one (from
0.9: 5) and raised heads of 40 px and more found in scenes from 94.0 to 99.8 %."""

WHOLE_IMAGE_SHARE = 0.6
"""A close-up face whose box spans at least this share of the image's width and height is the whole image."""


def find_faces(detector: FaceDetector, image_bgr: np.ndarray, *, close_up: bool = True) -> list[FaceDetection]:
    """Every face in a BGR image, each marked with how it was found (see
    :data:`~emotion_core.face.detection.DETECTION_METHODS`; a face found in the turned photo counts as the
    detector's); ``close_up=False`` runs the detector alone, upright.

    Boxes follow ``detector``'s convention whichever model found them; a whole-image face has the image as
    its box and keeps the keypoints that level its eyes; a close-up face's score is the looks' mean.
    """
    faces = detector.detect(image_bgr)
    if not close_up:
        return faces
    faces = faces or turned_faces(detector, image_bgr)
    height, width = image_bgr.shape[:2]
    if faces:  # one face filling the photo is a headshot, whichever look found it
        return [_whole_image(faces[0], width, height)] if len(faces) == 1 and _fills(faces[0], width, height) else faces
    face, vote = rolled_close_up(detector, image_bgr)
    judged = None if detector.judge is None else partial(detector.judge.probability, image_bgr)
    if face is None or not close_up_holds_face(vote, judged):
        return []
    return [_whole_image(face, width, height) if _fills(face, width, height) else replace(face, method="close-up")]


def close_up_holds_face(vote: float, judged: Callable[[], float] | None, *,
                        judged_votes: tuple[tuple[float, float], ...] = JUDGED_VOTES) -> bool:
    """Whether a close-up whose looks voted ``vote`` is a face; ``judged`` gives the whole-image judge's
    probability, asked only when some row of ``judged_votes`` (see :data:`JUDGED_VOTES`; an argument for the
    benchmark's sweep) could accept the vote."""
    if judged is None or vote < min(needed for _, needed in judged_votes):
        return vote >= CLOSE_UP_SCORE
    probability = judged()
    return any(probability >= sure and vote >= needed for sure, needed in judged_votes)


def turned_faces(detector: FaceDetector, image_bgr: np.ndarray) -> list[FaceDetection]:
    """The faces that ``detector`` finds in the photo turned by the first of :data:`CLOSE_UP_ROLLS`' turns that
    finds one confirmed by its verifier from :data:`TURNED_SCORE`, in the photo's pixels: a head tilted by 30
    degrees or more is often missed upright."""
    if detector.verifier is None:
        return []
    for roll in CLOSE_UP_ROLLS[1:]:
        turned, back = _turned(image_bgr, roll)
        found = [face for face in detector.detect(turned) if detector.verifier.both_ways(
            turned, reframe(face, detector.name, detector.verifier.name).box) >= TURNED_SCORE]
        if found:
            return [_moved(face, back) for face in found]
    return []


def rolled_close_up(detector: FaceDetector, image_bgr: np.ndarray, *, enough: float = CLOSE_UP_SCORE
                    ) -> tuple[FaceDetection | None, float]:
    """The close-up's face in the image's own pixels, framed as ``detector`` frames faces, and its vote: the best
    of :func:`close_up_look` at each of :data:`CLOSE_UP_ROLLS`, stopping at the first that reaches ``enough``."""
    best: tuple[FaceDetection | None, float] = (None, 0.0)
    for roll in CLOSE_UP_ROLLS:
        turned, back = _turned(image_bgr, roll)
        face, found_by, vote = close_up_look(detector.close_up, turned, detector.verifier)
        if face is not None and vote > best[1]:
            face = reframe(replace(face, score=None if face.score is None else vote), found_by, detector.name)
            best = (face if back is None else _moved(face, back), vote)
        if best[1] >= enough:
            break
    return best


def _turned(image_bgr: np.ndarray, roll: float) -> tuple[np.ndarray, np.ndarray | None]:
    """The image turned by ``roll`` degrees about its centre, at its own size (corners repeat the edge), and the
    affine map from the turned image's pixels back to the image's (``None`` for no turn)."""
    if not roll:
        return image_bgr, None
    import cv2

    height, width = image_bgr.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), roll, 1.0)
    turned = cv2.warpAffine(image_bgr, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)
    return turned, cv2.invertAffineTransform(matrix)


def _moved(face: FaceDetection, back: np.ndarray) -> FaceDetection:
    """A face found in a turned image, in the image's pixels: the box's centre and the keypoints mapped back."""
    def point(x: float, y: float) -> tuple[float, float]:
        mapped = back @ np.array([x, y, 1.0])
        return float(mapped[0]), float(mapped[1])

    x, y, w, h = face.box
    cx, cy = point(x + w / 2, y + h / 2)
    landmarks = None if face.landmarks is None else {name: point(*xy) for name, xy in face.landmarks.items()}
    return replace(face, box=(round(cx - w / 2), round(cy - h / 2), w, h), landmarks=landmarks)


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
