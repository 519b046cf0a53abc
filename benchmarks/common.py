"""What every benchmark shares: the machine it ran on, timing, a sample frame, and writing the figures."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from emotion_core.timing import median_and_p95, sample_frame  # noqa: F401  (shared by the benchmarks)


def machine_info() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    import onnxruntime

    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version(), "onnxruntime": onnxruntime.__version__}


def timed(function, repeats: int) -> dict[str, float]:
    """Median and 95th percentile of ``repeats`` calls, in milliseconds, after 10 warm-up calls."""
    return median_and_p95(function, repeats=repeats)


def save_results(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}")
