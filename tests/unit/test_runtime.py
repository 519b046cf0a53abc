"""ONNX Runtime sessions: the process-wide thread policy, sleeping workers and a missing file."""

import pytest

from emotion_core.config import Settings
from emotion_core.errors import ModelUnavailableError
from emotion_core.runtime import load_onnx_session, set_inference_threads

MODEL = Settings.from_env().models_dir / "blazeface_short_range.onnx"


def test_sessions_take_the_configured_thread_count():
    try:
        set_inference_threads(1)
        assert load_onnx_session(MODEL).get_session_options().intra_op_num_threads == 1
        assert load_onnx_session(MODEL, threads=2).get_session_options().intra_op_num_threads == 2
    finally:
        set_inference_threads(0)
    assert load_onnx_session(MODEL).get_session_options().intra_op_num_threads == 0


def test_idle_workers_sleep_instead_of_spinning():
    """Spinning workers of one model starve the next model's run on a small CPU (see load_onnx_session)."""
    options = load_onnx_session(MODEL, threads=2).get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_a_missing_model_file_is_reported(tmp_path):
    with pytest.raises(ModelUnavailableError, match="missing"):
        load_onnx_session(tmp_path / "absent.onnx")
