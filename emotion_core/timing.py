"""Latency figures: the median and 95th percentile of repeated calls, the frame they are measured on, and the
machine (CPU model and vector instruction sets) that every card and benchmark records beside its figures."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from datetime import datetime, timezone

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


_ISA = ("avx", "avx2", "fma", "avx512", "vnni", "amx")  # instruction sets that decide ONNX Runtime's kernels


def machine_info() -> dict[str, object]:
    """Date, CPU model, cores, the CPU's vector instruction sets, and the Python and ONNX Runtime versions."""
    cpu, flags = platform.processor() or platform.machine(), []
    try:
        with open("/proc/cpuinfo") as info:
            lines = info.read().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), cpu)
        flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    except OSError:
        pass
    import onnxruntime

    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpu": cpu, "cores": os.cpu_count(),
            "isa": sorted(f for f in flags if f.startswith(_ISA)),
            "python": platform.python_version(), "onnxruntime": onnxruntime.__version__}
