"""Face tracks across video frames: IoU association, confirmation, and temporal smoothing of the probabilities.

A frame-by-frame classifier flickers between neighbouring labels; averaging each face's probabilities over
its recent frames (an exponential moving average) steadies the label without a trained temporal model, which
we could not train or evaluate here (there is no labelled video data).

A detector also fires now and then on a frame with no face. Such a false face rarely returns in the next
frames at the same place, so a new track is tentative until it has been detected in several detection rounds
in a row (or once, with a high score); one missed round ends a tentative track. Only confirmed tracks are
shown (as SORT's ``min_hits`` does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emotion_core.face.detection import FaceDetection

CONFIRM_HITS = 3
"""Detection rounds in a row that show a new face: a tenth of a second at 30 frames/s."""
CONFIRM_SCORE = 0.8
"""A score that shows a face at once: no image without a face reached it in ``benchmarks/detection.py``."""


def box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two ``(x, y, width, height)`` boxes."""
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


@dataclass
class FaceTrack:
    """One face followed over time."""

    track_id: int
    detection: FaceDetection
    smoothed: np.ndarray | None = None
    missed: int = 0
    frames: int = 0
    hits: int = 1
    confirmed: bool = False

    def update_probabilities(self, probs: np.ndarray, smoothing: float) -> np.ndarray:
        """Blend the new probabilities into the track's average; ``smoothing`` is the weight of the past."""
        self.smoothed = probs.copy() if self.smoothed is None else smoothing * self.smoothed + (1 - smoothing) * probs
        self.frames += 1
        return self.smoothed


class FaceTracker:
    """Match each frame's detections to existing tracks by box overlap.

    Parameters
    ----------
    iou_threshold : float
        Minimum overlap for a detection to continue a track.
    max_missed : int
        Detection rounds a track may go unmatched before it ends (a face turned away for a moment keeps
        its id).
    smoothing : float
        Weight of the past in the moving average of probabilities, in [0, 1): 0 shows every frame raw;
        0.6 at 30 frames/s settles within about a quarter of a second.
    confirm_hits : int
        Detection rounds in a row that confirm a new track (1 confirms every detection at once).
    confirm_score : float
        A detector score from which one detection confirms its track at once (detectors without scores rely
        on ``confirm_hits``).
    """

    def __init__(self, *, iou_threshold: float = 0.3, max_missed: int = 10, smoothing: float = 0.6,
                 confirm_hits: int = CONFIRM_HITS, confirm_score: float = CONFIRM_SCORE):
        if not 0 <= smoothing < 1:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
        if confirm_hits < 1:
            raise ValueError(f"confirm_hits must be at least 1, got {confirm_hits}")
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.smoothing = smoothing
        self.confirm_hits = confirm_hits
        self.confirm_score = confirm_score
        self.tracks: list[FaceTrack] = []
        self._next_id = 1

    def update(self, detections: list[FaceDetection]) -> list[FaceTrack]:
        """Associate a frame's detections with the tracks; returns the tracks seen in this frame, in the
        order of ``detections``."""
        pairs = sorted(
            ((box_iou(t.detection.box, d.box), ti, di) for ti, t in enumerate(self.tracks)
             for di, d in enumerate(detections)),
            reverse=True,
        )
        track_for: dict[int, FaceTrack] = {}
        used_tracks: set[int] = set()
        for iou, ti, di in pairs:
            if iou < self.iou_threshold:
                break
            if ti in used_tracks or di in track_for:
                continue
            used_tracks.add(ti)
            track_for[di] = self.tracks[ti]
        for ti, track in enumerate(self.tracks):
            if ti not in used_tracks:
                track.missed += 1
            else:
                track.hits += 1
        for di, detection in enumerate(detections):
            track = track_for.get(di)
            if track is None:
                track = FaceTrack(track_id=self._next_id, detection=detection)
                self._next_id += 1
                self.tracks.append(track)
                track_for[di] = track
            track.detection = detection
            track.missed = 0
            track.confirmed = track.confirmed or track.hits >= self.confirm_hits or (
                detection.score is not None and detection.score >= self.confirm_score)
        self.tracks = [t for t in self.tracks if t.missed <= (self.max_missed if t.confirmed else 0)]
        return [track_for[di] for di in range(len(detections))]

    def current(self) -> list[FaceTrack]:
        """Tracks matched in the last detection round, for frames where detection is skipped."""
        return [t for t in self.tracks if t.missed == 0]

    def shown(self) -> list[FaceTrack]:
        """Confirmed tracks matched in the last detection round: the faces to report and draw."""
        return [t for t in self.current() if t.confirmed]
