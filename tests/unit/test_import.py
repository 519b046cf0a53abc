import subprocess
import sys


def test_core_imports_without_streamlit_or_heavy_libraries():
    """The core is importable on its own and stays cheap: no UI, no deep-learning framework, no Ray at import."""
    code = (
        "import sys, emotion_core, emotion_core.cli, emotion_core.result, emotion_core.labels, "
        "emotion_core.batch.archive; "
        "print(sorted(m for m in ('streamlit', 'keras', 'torch', 'cv2', 'onnxruntime', 'flask', 'ray') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_resolve():
    import emotion_core

    for name in emotion_core.__all__:
        assert getattr(emotion_core, name) is not None


def test_keras_backend_defaults_to_torch_without_overriding_the_user(monkeypatch):
    code = "import os, emotion_core; print(os.environ['KERAS_BACKEND'])"
    env_default = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 env={k: v for k, v in __import__("os").environ.items() if k != "KERAS_BACKEND"})
    assert env_default.stdout.strip() == "torch"
    env_user = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**__import__("os").environ, "KERAS_BACKEND": "jax"})
    assert env_user.stdout.strip() == "jax"
