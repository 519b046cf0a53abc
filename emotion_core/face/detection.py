"""Face detectors: BlazeFace on ONNX Runtime (default) and OpenCV's Haar cascade (the seeds' fallback).

Both find every face in a BGR image and return :class:`FaceDetection` records in pixel coordinates. BlazeFace
also gives six keypoints, which :mod:`emotion_core.face.alignment` uses to level the eyes. The BlazeFace weights are
MediaPipe's (Apache-2.0), converted to ONNX and shipped in ``models/`` (see their model cards).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from emotion_core.errors import InvalidInputError, ModelUnavailableError

if TYPE_CHECKING:
    from emotion_core.face.judge import FaceJudge

KEYPOINTS = ("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear")
"""BlazeFace keypoint names, from the subject's point of view (the right eye is on the image's left)."""


DETECTION_METHODS = ("detector", "close-up", "whole image")
"""How a face was found (see :func:`emotion_core.face.search.find_faces`): by the detector on the image as it
is, on the image looked at as a close-up, or as a close-up filling the whole image, which is then analysed as
one face crop."""


@dataclass(frozen=True)
class FaceDetection:
    """One face: box ``(x, y, width, height)`` in pixels, confidence, keypoints when the detector has them, and
    how it was found (one of :data:`DETECTION_METHODS`)."""

    box: tuple[int, int, int, int]
    score: float | None
    landmarks: dict[str, tuple[float, float]] | None = None
    method: str = "detector"


class FaceDetector(Protocol):
    name: str
    close_up: FaceDetector
    """The detector that looks at close-ups (see :func:`emotion_core.face.search.find_faces`): itself, or a
    model made for large faces."""
    verifier: FaceVerifier | None
    """Asked, in a close-up look, whether the whole image is one face (see :class:`FaceVerifier`)."""
    judge: FaceJudge | None
    """Settles a close-up's doubtful vote (see :func:`emotion_core.face.search.close_up_holds_face`)."""

    def detect(self, image_bgr: np.ndarray, *, margin: float = 0.0,
               min_score: float | None = None) -> list[FaceDetection]: ...


BORDER_GREY = 128
"""Grey of the border put around an image looked at as a close-up (BlazeFace reads it as 0)."""


@dataclass(frozen=True)
class _BlazeFaceSpec:
    file: str
    input_size: int
    strides: tuple[int, ...]
    anchors_per_cell: tuple[int, ...]
    min_score: float


# Anchor layouts of MediaPipe's SSD anchor options for each model: the short-range model has 2 anchors per cell
# on a 16x16 grid and 6 per cell on an 8x8 grid (896), the full-range model one per cell on a 48x48 grid (2304).
# Score thresholds from benchmarks/detection.py --split train --sweep (results/detection_sweep.json), the lowest
# that keep false faces to about 1 in 1,000 images and frames without a face: at 0.5 the full-range model put one
# in 16.5 of 1,000 images and 22 of 1,000 frames, the short-range model in 73.5 and 161; at 0.65 and 0.75, in 1.25
# and 1 and in 0.25 and 0. The short-range model still finds every face of 128 px and more at 0.75; the
# full-range model finds faces of 128 to 256 px in 70 to 90 % of pastes at 0.65 (85 to 100 % at 0.6).
_BLAZEFACE_MODELS = {
    "short": _BlazeFaceSpec("blazeface_short_range.onnx", 128, (8, 16), (2, 6), 0.75),
    "full": _BlazeFaceSpec("blazeface_full_range.onnx", 192, (4,), (1,), 0.65),
}


def _anchor_centres(spec: _BlazeFaceSpec) -> np.ndarray:
    centres = []
    for stride, per_cell in zip(spec.strides, spec.anchors_per_cell):
        cells = spec.input_size // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def _overlap(box: np.ndarray, boxes: np.ndarray, *, by_smaller: bool = False) -> np.ndarray:
    """Overlap of one ``(x0, y0, x1, y1)`` box with many: IoU, or with ``by_smaller`` the intersection over the
    smaller of the two boxes (1 for a box inside another)."""
    ix0 = np.maximum(box[0], boxes[:, 0])
    iy0 = np.maximum(box[1], boxes[:, 1])
    ix1 = np.minimum(box[2], boxes[:, 2])
    iy1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(np.minimum(area, areas) if by_smaller else area + areas - inter, 1e-9)


def _weighted_nms(boxes: np.ndarray, points: np.ndarray, scores: np.ndarray, iou_threshold: float):
    """Merge overlapping candidates into their score-weighted mean, as BlazeFace's own pipeline does."""
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    kept = []
    remaining = np.ones(len(scores), dtype=bool)
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        group = remaining & (_overlap(boxes[i], boxes) >= iou_threshold)
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
    min_score : float, optional
        Candidates below this confidence are dropped; by default the variant's measured threshold.
    iou_threshold : float
        Overlap above which candidates are merged into one face.
    close_up : BlazeFaceDetector, optional
        The detector that looks at close-ups (itself by default).
    verifier : FaceVerifier, optional
        Votes in close-up looks too (see :func:`load_detector`).
    judge : FaceJudge, optional
        Settles close-ups' doubtful votes (see :func:`load_detector`).
    """

    def __init__(self, *, session, variant: str = "full", min_score: float | None = None,
                 iou_threshold: float = 0.3, close_up: BlazeFaceDetector | None = None,
                 verifier: FaceVerifier | None = None, judge: FaceJudge | None = None):
        spec = _BLAZEFACE_MODELS[variant]
        self.session = session
        self.variant = variant
        self.min_score = spec.min_score if min_score is None else min_score
        self.iou_threshold = iou_threshold
        self.close_up = close_up if close_up is not None else self
        self.verifier = verifier
        self.judge = judge
        self.name = "blazeface" if variant == "full" else f"blazeface-{variant}"
        self._size = spec.input_size
        self._anchors = _anchor_centres(spec)
        self._input_name = session.get_inputs()[0].name

    @classmethod
    def from_dir(cls, models_dir: str | Path, *, variant: str = "full", **kwargs) -> BlazeFaceDetector:
        """Load the shipped ONNX weights of one BlazeFace variant from ``models_dir``."""
        from emotion_core.runtime import load_onnx_session

        path = Path(models_dir) / _BLAZEFACE_MODELS[variant].file
        return cls(session=load_onnx_session(path), variant=variant, **kwargs)

    def detect(self, image_bgr: np.ndarray, *, margin: float = 0.0,
               min_score: float | None = None) -> list[FaceDetection]:
        """Find every face; see :class:`FaceDetection`.

        ``margin`` puts a grey border around the image, as wide on each side as that fraction of its longer
        side, so that a face filling the image is seen with surroundings; boxes stay in the image's pixels.
        ``min_score`` replaces :attr:`min_score` for this call.
        """
        import cv2

        image_bgr = check_image(image_bgr)
        height, width = image_bgr.shape[:2]
        # Letterbox into a square (black bars, as MediaPipe pads; grey around a close-up) so the model sees
        # undistorted faces, then scale to [-1, 1] RGB.
        side = max(height, width) * (1 + 2 * margin)
        resized = shrink(image_bgr, (max(1, round(width * self._size / side)),
                                     max(1, round(height * self._size / side))))
        canvas = np.full((self._size, self._size, 3), BORDER_GREY if margin else 0, dtype=np.uint8)
        oy, ox = (self._size - resized.shape[0]) // 2, (self._size - resized.shape[1]) // 2
        canvas[oy:oy + resized.shape[0], ox:ox + resized.shape[1]] = resized
        tensor = (cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32) / 127.5 - 1.0)[None]
        regressors, logits = self.session.run(None, {self._input_name: tensor})
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[0, :, 0], -80.0, 80.0)))
        keep = scores >= (self.min_score if min_score is None else min_score)
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


CLOSE_UP_SHARE = 0.3
"""In a close-up look, the smallest face looked for, as a share of the image's longer side (before the border)."""

PYRAMID_STEP = 0.709
"""Scale from one pyramid level to the next: a face's area halves, so P-Net's 12 px window meets every size."""

MTCNN_MIN_SCORE = 0.9
"""O-Net's score from which a window is a face, the mean of its scores for the window as it is and mirrored.
Swept on the training faces (``benchmarks/detection.py --split train --sweep --detectors mtcnn``,
results/detection_sweep_mtcnn.json). The mirrored vote was chosen on the same training split: at 0.9 it found
94.0 % of heads and 69.6 % of data-set crops of 40 px and more pasted in scenes, against 93.5 % and 68.7 % for the
score as it is alone, and put a face in 4 of 1,000 frames without one instead of 6 (0.25 in 1,000 images both)."""

SECOND_OPINION_SCORE = 0.45
"""The short-range BlazeFace's score that a face MTCNN found needs in a window twice its size around it (see
:meth:`MTCNNDetector.seconded`). MTCNN and BlazeFace learnt from different data and fail on different clutter (a
headlight, grass, letters). Chosen on the training split of ``benchmarks/detection.py``: the highest score that
costs at most 1 % of the faces MTCNN finds in any framing there (tight crops 0.9 %, data-set crops in scenes
0.6 %, heads in scenes none: every one of 661 scored 0.6 or more); the one false face of 12,000 images without
one that MTCNN found there scored 0.59."""


class FaceVerifier:
    """MTCNN's last network (O-Net): is this square window a face, where exactly, and where are its eyes, nose and
    mouth? It judges tight 48 px windows, so it also tells whether a whole image is one face: on the training
    faces of ``benchmarks/detection.py --split train --sweep``, its votes lift the close-up looks' share of tight
    crops and headshots found from 96.4 % to 97.9 % and lower their false faces from 1.25 to 0.5 in 1,000 images
    (see :data:`emotion_core.face.search.CLOSE_UP_SCORE`)."""

    name = "mtcnn"

    def __init__(self, session):
        self.session = session

    @classmethod
    def from_dir(cls, models_dir: str | Path) -> FaceVerifier:
        from emotion_core.runtime import load_onnx_session

        return cls(load_onnx_session(Path(models_dir) / "mtcnn_onet.onnx"))

    def judge(self, rgb: np.ndarray, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each square ``(x0, y0, x1, y1)`` window of an RGB image: its face score, its regressed box and the
        five points ``(5, 2)`` (the eyes, the nose and the mouth's corners, the image's left one first)."""
        scores, offsets, points = self.session.run(None, {"image": _windows(rgb, windows, 48)})
        side = (windows[:, 2] - windows[:, 0])[:, None]
        points = np.stack([windows[:, :1] + points[:, :5] * side, windows[:, 1:2] + points[:, 5:] * side], axis=-1)
        return scores, _regress(windows, offsets), points

    def mirror_scores(self, rgb: np.ndarray, windows: np.ndarray) -> np.ndarray:
        """The face score of each window seen in a mirror: a face is one both ways, clutter that looks like one
        often is not."""
        mirrored = windows.copy()
        mirrored[:, [0, 2]] = rgb.shape[1] - windows[:, [2, 0]]
        return self.session.run(None, {"image": _windows(np.ascontiguousarray(rgb[:, ::-1]), mirrored, 48)})[0]

    def both_ways(self, image_bgr: np.ndarray, box: tuple[int, int, int, int]) -> float:
        """The mean of the scores of the square window around an ``(x, y, width, height)`` box, as it is and
        mirrored."""
        import cv2

        x, y, width, height = box
        window = _square(np.array([[x, y, x + width, y + height]], dtype=np.float32))
        rgb = cv2.cvtColor(check_image(image_bgr), cv2.COLOR_BGR2RGB)
        return float((self.judge(rgb, window)[0][0] + self.mirror_scores(rgb, window)[0]) / 2)

    def whole_image(self, image_bgr: np.ndarray) -> FaceDetection | None:
        """The face that the square around the whole image holds, with its score however low (``None`` when the
        regressed box leaves the image)."""
        import cv2

        height, width = check_image(image_bgr).shape[:2]
        window = _square(np.array([[0, 0, width, height]], dtype=np.float32))
        scores, boxes, points = self.judge(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB), window)
        return _clip_detection(boxes[0], _marks(points[0]), float(scores[0]), width, height)


class MTCNNDetector:
    """The MTCNN cascade on ONNX Runtime: P-Net proposes windows on an image pyramid, R-Net and O-Net re-score
    and refine them (weights from the facenet-pytorch wheel; see ``models/mtcnn.card.json``).

    Its networks judge tight face windows (12, 24 and 48 px), so it finds faces without their surroundings -
    an aligned crop pasted anywhere - and small faces, down to ``min_face`` pixels.

    Parameters
    ----------
    sessions : tuple of onnxruntime.InferenceSession
        P-Net, R-Net and O-Net (see :meth:`from_dir`).
    min_face : int
        Side in pixels of the smallest face looked for; the pyramid starts where it fills P-Net's window.
    max_side : int
        A larger image is searched shrunk to this longer side (its smallest face found grows in proportion).
    thresholds : tuple of float
        Scores P-Net's and R-Net's candidates need to go on to the next stage.
    min_score : float, optional
        O-Net's score a face needs; by default :data:`MTCNN_MIN_SCORE`.
    close_up : FaceDetector, optional
        The detector that looks at close-ups (itself by default).
    second_opinion : BlazeFaceDetector, optional
        When given, a face counts only once this model also finds it (see :meth:`seconded`).
    judge : FaceJudge, optional
        Settles close-ups' doubtful votes (see :func:`load_detector`).
    """

    name = "mtcnn"

    def __init__(self, *, sessions, min_face: int = 32, max_side: int = 1280,
                 thresholds: tuple[float, float] = (0.6, 0.7), min_score: float | None = None,
                 close_up: FaceDetector | None = None, second_opinion: BlazeFaceDetector | None = None,
                 judge: FaceJudge | None = None):
        self.pnet, self.rnet = sessions[:2]
        self.verifier = FaceVerifier(sessions[2])
        self.judge = judge
        self.min_face = min_face
        self.max_side = max_side
        self.thresholds = thresholds
        self.min_score = MTCNN_MIN_SCORE if min_score is None else min_score
        self.close_up = close_up if close_up is not None else self
        self.second_opinion = second_opinion

    @classmethod
    def from_dir(cls, models_dir: str | Path, **kwargs) -> MTCNNDetector:
        """Load the three shipped networks from ``models_dir``."""
        from emotion_core.runtime import load_onnx_session

        sessions = tuple(load_onnx_session(Path(models_dir) / f"mtcnn_{net}.onnx") for net in ("pnet", "rnet", "onet"))
        return cls(sessions=sessions, **kwargs)

    def detect(self, image_bgr: np.ndarray, *, margin: float = 0.0,
               min_score: float | None = None) -> list[FaceDetection]:
        """Find every face; arguments as in :meth:`BlazeFaceDetector.detect`."""
        import cv2

        image_bgr = check_image(image_bgr)
        height, width = image_bgr.shape[:2]
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        # A large photo is searched at max_side pixels, so its cost is bounded; a close-up is looked at for a face
        # filling the image, shrunk until such a face is O-Net's size, and the pyramid skips smaller faces.
        smallest, pad = float(self.min_face), 0
        factor = min(1.0, self.max_side / max(height, width))
        if margin:
            smallest = max(smallest, CLOSE_UP_SHARE * max(height, width))
            factor = min(1.0, 48 / smallest)
            smallest *= factor
        if factor < 1.0:
            rgb = shrink(rgb, (max(1, round(width * factor)), max(1, round(height * factor))))
        if margin:
            pad = round(margin * max(rgb.shape[:2]))
            rgb = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(BORDER_GREY,) * 3)
        boxes = self._refine(self.rnet, rgb, self._propose(rgb, smallest), 24, self.thresholds[1])
        if not len(boxes):
            return []
        windows = _square(boxes)
        scores, boxes, points = self.verifier.judge(rgb, windows)
        threshold = self.min_score if min_score is None else min_score
        hopeful = scores >= 2 * threshold - 1  # the others miss the threshold whatever the mirror says
        if hopeful.any():
            scores[hopeful] = (scores[hopeful] + self.verifier.mirror_scores(rgb, windows[hopeful])) / 2
        keep = scores >= threshold
        scores, boxes, points = scores[keep], boxes[keep], points[keep]
        faces = (_clip_detection((boxes[i] - pad) / factor, _marks((points[i] - pad) / factor), float(scores[i]),
                                 width, height)
                 for i in _nms(boxes, scores, 0.7, by_smaller=True))
        return [face for face in faces if face is not None and self.seconded(image_bgr, face)]

    def seconded(self, image_bgr: np.ndarray, face: FaceDetection) -> bool:
        """Whether :attr:`second_opinion` (when there is one) finds a face from :data:`SECOND_OPINION_SCORE` in the
        square window twice the size of ``face``'s box around its centre (edges repeated beyond the image), centred
        within a quarter of the window of the window's centre."""
        if self.second_opinion is None:
            return True
        import cv2

        x, y, width, height = face.box
        side = max(1, round(2 * max(width, height)))
        left, top = round(x + width / 2 - side / 2), round(y + height / 2 - side / 2)
        image_height, image_width = image_bgr.shape[:2]
        inside = image_bgr[max(0, top):min(image_height, top + side), max(0, left):min(image_width, left + side)]
        window = cv2.copyMakeBorder(inside, max(0, -top), max(0, top + side - image_height), max(0, -left),
                                    max(0, left + side - image_width), cv2.BORDER_REPLICATE)
        return any(abs(found.box[0] + found.box[2] / 2 - side / 2) < side / 4
                   and abs(found.box[1] + found.box[3] / 2 - side / 2) < side / 4
                   for found in self.second_opinion.detect(window, min_score=SECOND_OPINION_SCORE))

    def _propose(self, rgb: np.ndarray, smallest: float) -> np.ndarray:
        """P-Net's candidate windows ``(x0, y0, x1, y1, score)`` for faces of ``smallest`` pixels and more, over
        the pyramid, regressed and merged."""
        height, width = rgb.shape[:2]
        scale, level, found = 12.0 / smallest, rgb, []
        while min(height, width) * scale >= 12:
            level = shrink(level, (int(width * scale) + 1, int(height * scale) + 1))
            scores, offsets = self.pnet.run(None, {"image": _normalise(level[None])})
            ys, xs = np.nonzero(scores[0] >= self.thresholds[0])
            if len(ys):
                cells = np.stack([xs, ys], axis=1).astype(np.float32)
                windows = np.concatenate([np.floor((2 * cells + 1) / scale), np.floor((2 * cells + 12) / scale)], 1)
                windows = _regress(windows, offsets[0][:, ys, xs].T)
                level_scores = scores[0, ys, xs]
                found.append(np.column_stack([windows, level_scores])[_nms(windows, level_scores, 0.5)])
            scale *= PYRAMID_STEP
        if not found:
            return np.zeros((0, 5), dtype=np.float32)
        candidates = np.concatenate(found)
        return candidates[_nms(candidates[:, :4], candidates[:, 4], 0.7)]

    @staticmethod
    def _refine(net, rgb: np.ndarray, boxes: np.ndarray, side: int, threshold: float) -> np.ndarray:
        """Re-score square windows around ``boxes`` with ``net``; keep, regress and merge those that pass."""
        if not len(boxes):
            return boxes
        windows = _square(boxes)
        scores, offsets = net.run(None, {"image": _windows(rgb, windows, side)})
        keep = scores >= threshold
        boxes = np.column_stack([_regress(windows[keep], offsets[keep]), scores[keep]])
        return boxes[_nms(boxes[:, :4], boxes[:, 4], 0.7)]


def _marks(points: np.ndarray) -> tuple[np.ndarray, ...]:
    """O-Net's five points as :data:`KEYPOINTS`' first four: the eyes, the nose, the mouth's middle."""
    right_eye, left_eye, nose, *mouth = points
    return right_eye, left_eye, nose, np.mean(mouth, axis=0)


def _regress(windows: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Move each corner of ``(x0, y0, x1, y1)`` windows by its offset, a fraction of the window's side."""
    size = np.tile(windows[:, 2:4] - windows[:, 0:2], 2)
    return windows[:, :4] + offsets * size


def _square(boxes: np.ndarray) -> np.ndarray:
    """The whole-pixel square around the centre of each box, as wide as its longer side."""
    centre = (boxes[:, 0:2] + boxes[:, 2:4]) / 2
    side = np.max(boxes[:, 2:4] - boxes[:, 0:2], axis=1, keepdims=True)
    corner = np.round(centre - side / 2)
    return np.concatenate([corner, corner + np.round(side)], axis=1)


def _normalise(batch: np.ndarray) -> np.ndarray:
    """NHWC uint8 RGB to the NCHW floats in [-1, 1] that the networks take."""
    return ((batch.astype(np.float32) - 127.5) / 128.0).transpose(0, 3, 1, 2)


def _windows(rgb: np.ndarray, windows: np.ndarray, side: int) -> np.ndarray:
    """Each window of the image resized to ``side`` pixels, as a network's batch; outside the image is black."""

    height, width = rgb.shape[:2]
    batch = np.zeros((len(windows), side, side, 3), dtype=np.uint8)
    for i, (x0, y0, x1, y1) in enumerate(windows.astype(int)):
        ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if ix1 <= ix0 or iy1 <= iy0:
            continue
        # Resize only the part inside the image, into its place in the window.
        factor = side / max(1, x1 - x0)
        tx0, ty0 = round((ix0 - x0) * factor), round((iy0 - y0) * factor)
        tx1, ty1 = max(tx0 + 1, round((ix1 - x0) * factor)), max(ty0 + 1, round((iy1 - y0) * factor))
        tx1, ty1 = min(tx1, side), min(ty1, side)
        if tx1 > tx0 and ty1 > ty0:
            batch[i, ty0:ty1, tx0:tx1] = shrink(rgb[iy0:iy1, ix0:ix1], (tx1 - tx0, ty1 - ty0))
    return _normalise(batch)


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, *, by_smaller: bool = False) -> np.ndarray:
    """Indices of the ``(x0, y0, x1, y1)`` boxes kept by greedy non-maximum suppression, best first; overlap is
    IoU, or with ``by_smaller`` the intersection over the smaller box (which drops a box inside another)."""
    if not by_smaller:
        import cv2

        rects = np.column_stack([boxes[:, :2], boxes[:, 2:4] - boxes[:, :2]]).astype(np.float64)
        return np.asarray(cv2.dnn.NMSBoxes(rects.tolist(), scores.astype(float).tolist(), 0.0, threshold),
                          dtype=int).reshape(-1)
    kept: list[int] = []
    for i in np.argsort(-scores):
        if not kept or not np.any(_overlap(boxes[i], boxes[kept], by_smaller=True) > threshold):
            kept.append(int(i))
    return np.array(kept, dtype=int)


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize ``image`` to ``size`` (width, height) with area averaging, halving first while it is over twice as
    large: OpenCV averages exact halves several times faster than other factors (0.4 ms instead of 1.3 ms for a
    640x480 frame to BlazeFace's 192 px)."""
    import cv2

    while image.shape[1] >= 2 * size[0] and image.shape[0] >= 2 * size[1]:
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _clip_detection(corners, points, score, width, height) -> FaceDetection | None:
    x0, y0, x1, y1 = (float(v) for v in corners)
    x0, y0 = max(0.0, x0), max(0.0, y0)
    x1, y1 = min(float(width), x1), min(float(height), y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    box = (round(x0), round(y0), round(x1 - x0), round(y1 - y0))
    landmarks = None if points is None else {name: (float(x), float(y)) for name, (x, y) in zip(KEYPOINTS, points)}
    return FaceDetection(box=box, score=score, landmarks=landmarks)


class HaarDetector:
    """OpenCV's frontal-face Haar cascade, as the seed papers use it. No keypoints, no score.

    ``detectMultiScale`` is not safe to call from several threads at once, so calls are serialised.
    """

    name = "haar"

    def __init__(self, *, cascade=None, max_side: int = 640, min_face: int = 24, equalize: bool = True,
                 verifier: FaceVerifier | None = None, judge: FaceJudge | None = None):
        self.cascade = cascade
        self.verifier = verifier
        self.judge = judge
        self.max_side = max_side
        self.min_face = min_face
        self.equalize = equalize
        self.close_up = self
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

    def detect(self, image_bgr: np.ndarray, *, margin: float = 0.0,
               min_score: float | None = None) -> list[FaceDetection]:
        """Find every face; ``margin`` as in :meth:`BlazeFaceDetector.detect` (the cascade has no scores, so
        ``min_score`` does not apply)."""
        import cv2

        image_bgr = check_image(image_bgr)
        height, width = image_bgr.shape[:2]
        gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        pad = round(margin * max(height, width))
        if pad:
            gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=BORDER_GREY)
        factor = min(1.0, self.max_side / max(gray.shape))
        if factor < 1.0:
            gray = shrink(gray, (round(gray.shape[1] * factor), round(gray.shape[0] * factor)))
        if self.equalize:
            gray = cv2.equalizeHist(gray)
        with self._lock:
            found = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                                  minSize=(self.min_face, self.min_face))
        faces = (_clip_detection(np.array([x, y, x + w, y + h]) / factor - pad, None, None, width, height)
                 for (x, y, w, h) in (found if len(found) else []))
        return [f for f in faces if f is not None]


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


DETECTORS = ("blazeface", "blazeface-short", "mtcnn", "haar")


def available_detectors() -> tuple[str, ...]:
    """Names accepted by :func:`load_detector`."""
    return DETECTORS


def load_detector(name: str, *, models_dir: str | Path) -> FaceDetector:
    """Build a face detector by name: ``blazeface`` (default), ``blazeface-short``, ``mtcnn`` or ``haar``.

    The full-range BlazeFace and MTCNN miss many faces that fill the image, which the short-range BlazeFace finds:
    they look at close-ups with that model, which also seconds each face MTCNN finds. Every detector's close-up
    looks also ask MTCNN's O-Net (:class:`FaceVerifier`) whether the whole image is one face, and their doubtful
    votes are settled by the whole-image judge (:class:`~emotion_core.face.judge.FaceJudge`).
    """
    from emotion_core.face.judge import FaceJudge

    if name not in DETECTORS:
        raise InvalidInputError(f"detector: expected one of {', '.join(DETECTORS)}, got {name!r}.")
    judge = FaceJudge.from_dir(models_dir)
    if name == "mtcnn":
        short_range = BlazeFaceDetector.from_dir(models_dir, variant="short")
        return MTCNNDetector.from_dir(models_dir, close_up=short_range, second_opinion=short_range, judge=judge)
    verifier = FaceVerifier.from_dir(models_dir)
    if name == "haar":
        return HaarDetector.from_opencv(verifier=verifier, judge=judge)
    if name == "blazeface-short":
        return BlazeFaceDetector.from_dir(models_dir, variant="short", verifier=verifier, judge=judge)
    return BlazeFaceDetector.from_dir(models_dir, variant="full", verifier=verifier, judge=judge,
                                      close_up=BlazeFaceDetector.from_dir(models_dir, variant="short"))
