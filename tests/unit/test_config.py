from pathlib import Path

from emotion_core.config import Settings


def test_defaults_and_environment_overrides(tmp_path):
    default = Settings.from_env({})
    assert default.models_dir.name == "models" and default.face_detector == "blazeface"
    assert default.photo_detector == "mtcnn"
    custom = Settings.from_env({"EMOTION_LENS_HOME": str(tmp_path), "EMOTION_LENS_MAX_IMAGE_PIXELS": "1000",
                                "EMOTION_DATA_DIR": "/data", "EMOTION_LENS_FACE_DETECTOR": "haar"})
    assert custom.home == tmp_path
    assert custom.max_image_pixels == 1000
    assert custom.data_dir == Path("/data")
    assert custom.face_detector == "haar"


def test_boolean_settings_read_words_not_truthiness():
    assert Settings.from_env({}).open_registration is False
    assert Settings.from_env({"EMOTION_LENS_OPEN_REGISTRATION": "1"}).open_registration is True
    assert Settings.from_env({"EMOTION_LENS_OPEN_REGISTRATION": "false"}).open_registration is False
