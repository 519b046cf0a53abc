"""ONNX Runtime sessions, the one inference runtime of the core (measured fastest on a laptop CPU)."""

from __future__ import annotations

import os
from pathlib import Path

from emotion_core.errors import ModelUnavailableError

_inference_threads = 0


def set_inference_threads(threads: int) -> None:
    """Threads one analysis may use from now on (0: every core): ONNX Runtime's intra-op threads of the sessions
    opened from now on, OpenCV's threads and the speech segments analysed side by side.

    One request at a time (the app, the command line) runs fastest on every core. A server answering requests in
    parallel threads does better with 1: each request gets a core and the thread pools stop fighting (measured
    with ``benchmarks.api_load``: 45 requests/s at 0, 62 at 1, on two cores; with idle workers asleep and MTCNN
    photos, 41-43 at 0 and 46 at 1). So does a batch actor, which owns one CPU of the cluster.
    """
    global _inference_threads
    _inference_threads = threads
    import cv2

    cv2.setNumThreads(threads if threads > 0 else -1)  # -1: OpenCV's default, every core


def analysis_threads() -> int:
    """How many threads one analysis may run side by side (see :func:`set_inference_threads`)."""
    return _inference_threads or os.cpu_count() or 1


def load_onnx_session(path: str | Path, *, threads: int | None = None):
    """Open an ONNX model for CPU inference.

    Parameters
    ----------
    path : str or Path
        The ``.onnx`` file.
    threads : int, optional
        Intra-op threads; 0 lets ONNX Runtime use every core; by default, what :func:`set_inference_threads` set.

    Raises
    ------
    ModelUnavailableError
        If the file is missing or is not a valid model.
    """
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise ModelUnavailableError(f"model file {path} is missing; reinstall the project's models/ folder.")
    options = ort.SessionOptions()
    options.intra_op_num_threads = _inference_threads if threads is None else threads
    # An idle worker that spins holds its core: with the detector, the judge and the classifier taking turns on two
    # cores, each model's spinning workers starved the next one's (a 640x480 frame 34 ms instead of 7 ms, an MTCNN
    # photo 190 ms instead of 35 ms; a single model's small runs are up to a fifth slower without spinning).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ONNX Runtime raises its own untyped errors for bad files
        raise ModelUnavailableError(f"model file {path} could not be loaded: {exc}") from exc
