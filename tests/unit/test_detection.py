import numpy as np
import pytest

from emotion_core.detection import available_detectors, check_image, load_detector
from emotion_core.errors import InvalidInputError
from tests.conftest import MODELS

# The astronaut's face, measured by hand on the 512x512 image: roughly x 175-280, y 65-175.
FACE_CENTRE = (227, 122)


def contains(box, point) -> bool:
    x, y, w, h = box
    return x <= point[0] <= x + w and y <= point[1] <= y + h


@pytest.fixture(scope="module", params=available_detectors())
def detector(request):
    return load_detector(request.param, models_dir=MODELS)


class TestEveryDetector:
    def test_finds_the_one_real_face(self, detector, astronaut_bgr):
        faces = detector.detect(astronaut_bgr)
        assert len(faces) == 1
        assert contains(faces[0].box, FACE_CENTRE)
        assert 70 <= faces[0].box[2] <= 140

    def test_finds_no_face_in_a_coffee_cup(self, detector, coffee_bgr):
        assert detector.detect(coffee_bgr) == []


@pytest.mark.parametrize("name", ["blazeface", "haar"])  # blazeface-short is for faces close to a webcam
def test_photo_detectors_find_every_face(name, astronaut_bgr):
    pair = np.concatenate([astronaut_bgr, astronaut_bgr[:, ::-1]], axis=1)
    assert len(load_detector(name, models_dir=MODELS).detect(pair)) == 2


class TestBlazeFace:
    def test_keypoints_sit_on_the_face(self, astronaut_bgr):
        face = load_detector("blazeface", models_dir=MODELS).detect(astronaut_bgr)[0]
        marks = face.landmarks
        assert marks["right_eye"][0] < marks["left_eye"][0]  # subject's right eye is on the image's left
        assert marks["nose"][1] > marks["right_eye"][1] and marks["mouth"][1] > marks["nose"][1]
        assert all(contains(face.box, point) for name, point in marks.items() if "ear" not in name)
        assert 0.5 < face.score <= 1

    def test_boxes_map_back_from_the_letterbox(self, astronaut_bgr):
        """The same face must be found at the same place whether the image is wide, tall or square."""
        detector = load_detector("blazeface", models_dir=MODELS)
        wide = np.zeros((512, 1024, 3), np.uint8)
        wide[:, 512:] = astronaut_bgr
        tall = np.zeros((1024, 512, 3), np.uint8)
        tall[512:] = astronaut_bgr
        (in_wide,), (in_tall,) = detector.detect(wide), detector.detect(tall)
        assert in_wide.box[0] - 512 == pytest.approx(in_tall.box[0], abs=3)
        assert in_wide.box[1] == pytest.approx(in_tall.box[1] - 512, abs=3)


class TestInputChecks:
    @pytest.mark.parametrize("bad, message", [
        (np.zeros((10, 10), np.uint8), "shape"),
        (np.zeros((10, 10, 3), np.float32), "uint8"),
        (np.zeros((4, 4, 3), np.uint8), "too small"),
        ([[1, 2, 3]], "numpy array"),
    ])
    def test_bad_arrays(self, bad, message):
        with pytest.raises(InvalidInputError, match=message):
            check_image(bad)

    def test_unknown_detector_name(self):
        with pytest.raises(InvalidInputError, match="blazeface, blazeface-short, haar"):
            load_detector("yolo", models_dir=MODELS)
