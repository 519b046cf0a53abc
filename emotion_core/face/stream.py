"""Frame-by-frame face analysis for live video and video files: detect, track, classify, smooth, annotate."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from emotion_core.face.detection import check_image
from emotion_core.face.overlay import annotate
from emotion_core.face.tracking import FaceTracker
from emotion_core.labels import EMOTIONS
from emotion_core.result import SCORE_COLUMNS, EmotionResult


@dataclass(frozen=True)
class FrameReport:
    """What was seen in one frame.

    ``time_s`` is the frame's presentation time, to the millisecond. ``faces`` hold the smoothed probabilities
    of each confirmed face track (see :class:`~emotion_core.face.tracking.FaceTracker`), each with its ``frame``
    and ``track_id``; ``detected`` says whether the detector ran on this frame or the tracks' last boxes were
    reused. A video's or a live session's timeline is its list of frame reports.
    """

    index: int
    time_s: float
    faces: list[EmotionResult]
    detected: bool
    latency_ms: float

    def rows(self) -> list[dict]:
        """Flat rows for a table: one per face, or a single ``no face`` row."""
        base = {"frame": self.index, "time_s": self.time_s}
        if not self.faces:
            return [{**base, "track_id": None, "label": "no face"}]
        return [{**base, **face.to_row()} for face in self.faces]


class FrameAnalyzer:
    """Turn a sequence of BGR frames into :class:`FrameReport` records.

    Parameters
    ----------
    predictor : FacePredictor
        Detector and classifier.
    tracker : FaceTracker, optional
        Follows faces between frames and smooths their probabilities; a new one by default.
    detect_every : int
        Run the detector on every n-th frame; in between, the faces are classified again at their tracked
        boxes (faces move little in a thirtieth of a second). 1 detects on every frame.
    """

    def __init__(self, *, predictor, tracker: FaceTracker | None = None, detect_every: int = 1):
        if detect_every < 1:
            raise ValueError(f"detect_every must be at least 1, got {detect_every}")
        self.predictor = predictor
        self.tracker = tracker if tracker is not None else FaceTracker()
        self.detect_every = detect_every
        self._index = 0

    def analyze(self, image_bgr: np.ndarray, *, time_s: float) -> FrameReport:
        """Analyse the next frame; ``time_s`` is its presentation time in seconds."""
        image_bgr = check_image(image_bgr)
        start = time.perf_counter()
        detected = self._index % self.detect_every == 0
        if detected:
            # The detector alone: the close-up looks of photos (emotion_core.face.search) would cost four more
            # passes on every frame without a face, and a false close-up of a still scene would repeat.
            self.tracker.update(self.predictor.detector.detect(image_bgr))
        tracks = self.tracker.shown()
        probs, doubts = self.predictor.assess(image_bgr, [t.detection for t in tracks])
        latency_ms = (time.perf_counter() - start) * 1000
        faces = [
            self.predictor.result(track.update_probabilities(p, self.tracker.smoothing), track.detection,
                                  latency_ms=latency_ms, uncertain=doubt, frame=self._index,
                                  track_id=track.track_id)
            for track, p, doubt in zip(tracks, probs, doubts)
        ]
        report = FrameReport(index=self._index, time_s=round(time_s, 3), faces=faces, detected=detected,
                             latency_ms=latency_ms)
        self._index += 1
        return report

    def annotate(self, image_bgr: np.ndarray, report: FrameReport) -> np.ndarray:
        """The frame with every tracked face drawn (box, emoji, smoothed label and confidence)."""
        return annotate(image_bgr, report.faces)


def frames_table(frames: Sequence[FrameReport]):
    """Frame reports as a table (see :func:`rows_table`): one row per face, or a ``no face`` row per empty frame."""
    return rows_table([row for frame in frames for row in frame.rows()])


def rows_table(rows: Sequence[dict[str, Any]]):
    """Result rows (see :meth:`FrameReport.rows` and :meth:`EmotionResult.to_row`) as a DataFrame; ids and boxes
    stay integers where a frame has no face."""
    import pandas as pd

    table = pd.DataFrame(list(rows))
    for column in ("track_id", "box_x", "box_y", "box_w", "box_h"):
        if column in table:
            table[column] = table[column].astype("Int64")
    return table


def track_summary(table):
    """One row per face track: first and last time, frames, mean probabilities and the dominant emotion."""
    import pandas as pd

    faces = table[table["label"] != "no face"] if len(table) else table
    columns = ["track_id", "first_s", "last_s", "frames", "dominant", *EMOTIONS]
    if faces.empty:
        return pd.DataFrame(columns=columns)
    means = faces.groupby("track_id")[list(SCORE_COLUMNS)].mean()
    means.columns = list(EMOTIONS)
    summary = faces.groupby("track_id")["time_s"].agg(first_s="min", last_s="max", frames="count").join(means)
    summary["dominant"] = means.idxmax(axis=1)
    return summary.reset_index()[columns]


def emotion_shares(table) -> dict[str, float]:
    """Share of face observations per (smoothed) label, plus the share of analysed frames with no face."""
    if table.empty:
        return {}
    frames = table["frame"].nunique()
    faces = table[table["label"] != "no face"]
    shares = {label: round(float((faces["label"] == label).mean()), 4) if len(faces) else 0.0
              for label in EMOTIONS}
    shares["no face (share of frames)"] = round(1 - faces["frame"].nunique() / frames, 4)
    return shares
