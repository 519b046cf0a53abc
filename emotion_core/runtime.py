"""ONNX Runtime sessions, the one inference runtime of the core (measured fastest on a laptop CPU)."""

from __future__ import annotations

from pathlib import Path

from emotion_core.errors import ModelUnavailableError


def load_onnx_session(path: str | Path, *, threads: int = 0):
    """Open an ONNX model for CPU inference.

    Parameters
    ----------
    path : str or Path
        The ``.onnx`` file.
    threads : int
        Intra-op threads; 0 lets ONNX Runtime use every core.

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
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ONNX Runtime raises its own untyped errors for bad files
        raise ModelUnavailableError(f"model file {path} could not be loaded: {exc}") from exc
