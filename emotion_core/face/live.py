"""Live webcam analysis: a frame callback that runs off the page's thread and hands results over a queue.

The Streamlit page wraps :class:`LiveAnalyzer` in a two-line adapter for streamlit-webrtc (``av.VideoFrame`` in
and out); everything else — detection, tracking, smoothing, drawing, timing — happens here, so it can be
tested with plain arrays.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from emotion_core.face.stream import FrameAnalyzer, FrameReport
from emotion_core.face.tracking import FaceTracker


@dataclass(frozen=True)
class LiveStats:
    """Throughput over the last couple of seconds."""

    frames: int
    frames_with_face: int
    fps: float
    latency_ms: float


class LiveAnalyzer:
    """Analyse webcam frames as they arrive and draw the result on each.

    Parameters
    ----------
    predictor : FacePredictor
        Use a detector made for this analyser (OpenCV's Haar cascade is not thread-safe).
    detect_every : int
        Run the detector on every n-th frame and track faces in between.
    smoothing : float
        Weight of the past in each face's moving average of probabilities.
    max_pending : int
        Reports kept for the page; the oldest are dropped when the page falls behind.
    """

    def __init__(self, *, predictor, detect_every: int = 2, smoothing: float = 0.6, max_pending: int = 600):
        self.frames = FrameAnalyzer(predictor=predictor, tracker=FaceTracker(smoothing=smoothing),
                                    detect_every=detect_every)
        self.reports: queue.Queue[FrameReport] = queue.Queue(maxsize=max_pending)
        self._lock = threading.Lock()
        self._started: float | None = None
        self._recent: deque[tuple[float, float]] = deque(maxlen=60)
        self._count = 0
        self._with_face = 0

    def __call__(self, image_bgr: np.ndarray) -> np.ndarray:
        """Analyse one BGR frame and return it annotated; the report goes to :attr:`reports`."""
        with self._lock:  # frames of one stream arrive in order; the lock guards against overlap
            now = time.monotonic()
            if self._started is None:
                self._started = now
            report = self.frames.analyze(image_bgr, time_s=now - self._started)
            self._recent.append((now, report.latency_ms))
            self._count += 1
            self._with_face += bool(report.faces)
        self._hand_over(report)
        return self.frames.annotate(image_bgr, report)

    def _hand_over(self, report: FrameReport) -> None:
        while True:
            try:
                self.reports.put_nowait(report)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self.reports.get_nowait()

    def drain(self) -> list[FrameReport]:
        """Every report not collected yet, oldest first (call from the page's thread)."""
        drained = []
        while True:
            try:
                drained.append(self.reports.get_nowait())
            except queue.Empty:
                return drained

    def stats(self) -> LiveStats:
        """Frames so far, and frame rate and median analysis latency over the recent frames."""
        with self._lock:
            recent = list(self._recent)
            count, with_face = self._count, self._with_face
        span = recent[-1][0] - recent[0][0] if recent else 0.0
        fps = (len(recent) - 1) / span if span > 0 else 0.0
        latency = float(np.median([r[1] for r in recent])) if recent else 0.0
        return LiveStats(frames=count, frames_with_face=with_face, fps=round(fps, 1), latency_ms=round(latency, 1))
