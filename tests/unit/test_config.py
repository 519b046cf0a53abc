from pathlib import Path

from emotion_core.config import Settings


def test_defaults_and_environment_overrides(tmp_path):
    default = Settings.from_env({})
    assert default.models_dir.name == "models" and default.face_detector == "blazeface"
    custom = Settings.from_env({"EMOTION_LENS_HOME": str(tmp_path), "EMOTION_LENS_MAX_IMAGE_PIXELS": "1000",
                                "EMOTION_DATA_DIR": "/data", "EMOTION_LENS_FACE_DETECTOR": "haar"})
    assert custom.home == tmp_path
    assert custom.max_image_pixels == 1000
    assert custom.data_dir == Path("/data")
    assert custom.face_detector == "haar"
