"""Latency figures: the median and 95th percentile of repeated calls, and the frame they are measured on."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def median_and_p95(function: Callable[[], object], *, repeats: int, warm_up: int = 10) -> dict[str, float]:
    """Call ``function`` ``warm_up`` times unmeasured, then ``repeats`` times; milliseconds."""
    for _ in range(warm_up):
        function()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(float(np.median(samples)), 3), "p95_ms": round(float(np.percentile(samples, 95)), 3),
            "repeats": repeats}


def sample_frame() -> np.ndarray:
    """640x480 BGR with one real face: skimage's astronaut scaled to 480 px high on a grey background.

    Needs scikit-image (a test and benchmark dependency).
    """
    import cv2
    from skimage import data

    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (480, 480), interpolation=cv2.INTER_AREA)
    frame = np.full((480, 640, 3), 96, np.uint8)
    frame[:, 80:560] = face
    return frame
