"""What every benchmark shares: the machine it ran on, timing, a sample frame, and writing the figures."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from emotion_core.timing import median_and_p95, sample_frame  # noqa: F401  (shared by the benchmarks)

VECTOR_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni",
                "amx_tile", "amx_int8", "amx_bf16")
"""The CPU flags that decide how fast ONNX Runtime and OpenCV run (vector width, int8 and bfloat16 dot products)."""


def machine_info() -> dict[str, object]:
    cpu, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as info:
            lines = info.read().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), cpu)
        flags = set(next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), []))
    except OSError:
        pass
    import onnxruntime

    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpu": cpu,
            "isa": [flag for flag in VECTOR_FLAGS if flag in flags], "cores": os.cpu_count(),
            "python": platform.python_version(), "onnxruntime": onnxruntime.__version__}


def timed(function, repeats: int) -> dict[str, float]:
    """Median and 95th percentile of ``repeats`` calls, in milliseconds, after 10 warm-up calls."""
    return median_and_p95(function, repeats=repeats)


def save_results(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}")
