import numpy as np
import pytest

from emotion_core.errors import InvalidInputError
from emotion_core.face.detection import available_detectors, check_image, load_detector
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


@pytest.mark.parametrize("name", ["blazeface", "mtcnn", "haar"])  # blazeface-short: faces close to a webcam
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


class TestMTCNN:
    def test_keypoints_sit_on_the_face(self, astronaut_bgr):
        face = load_detector("mtcnn", models_dir=MODELS).detect(astronaut_bgr)[0]
        marks = face.landmarks
        assert set(marks) == {"right_eye", "left_eye", "nose", "mouth"}
        assert marks["right_eye"][0] < marks["left_eye"][0]  # subject's right eye is on the image's left
        assert marks["nose"][1] > marks["right_eye"][1] and marks["mouth"][1] > marks["nose"][1]
        assert all(contains(face.box, point) for point in marks.values())
        assert 0.9 <= face.score <= 1

    def test_finds_a_small_face_in_a_large_frame(self, astronaut_bgr):
        """A face about 45 px wide in a 640x480 scene: BlazeFace full range misses most faces this small."""
        import cv2

        head = cv2.resize(astronaut_bgr[40:200, 150:310], (64, 64), interpolation=cv2.INTER_AREA)
        frame = np.full((480, 640, 3), 90, np.uint8)
        frame[300:364, 500:564] = head
        (face,) = load_detector("mtcnn", models_dir=MODELS).detect(frame)
        assert contains(face.box, (532, 334)) and 30 <= face.box[2] <= 60

    def test_finds_a_tight_crop_without_help(self, astronaut_bgr):
        """Its networks judge tight face windows, so a crop to the face is found by the detector itself."""
        crop = np.ascontiguousarray(astronaut_bgr[65:175, 175:280])
        (face,) = load_detector("mtcnn", models_dir=MODELS).detect(crop)
        assert face.method == "detector" and face.box[2] >= 0.7 * crop.shape[1]

    def test_a_large_photo_is_searched_shrunk_and_answered_in_its_pixels(self, astronaut_bgr):
        import cv2

        large = cv2.resize(astronaut_bgr, (2048, 2048), interpolation=cv2.INTER_CUBIC)
        (face,) = load_detector("mtcnn", models_dir=MODELS).detect(large)
        assert contains(face.box, (FACE_CENTRE[0] * 4, FACE_CENTRE[1] * 4)) and 280 <= face.box[2] <= 560
        assert contains(face.box, face.landmarks["nose"])

    def test_a_margin_and_a_threshold_apply(self, astronaut_bgr):
        detector = load_detector("mtcnn", models_dir=MODELS)
        (plain,), (bordered,) = detector.detect(astronaut_bgr), detector.detect(astronaut_bgr, margin=0.5)
        assert bordered.box == pytest.approx(plain.box, abs=6)
        assert detector.detect(astronaut_bgr, min_score=1.01) == []

    def test_a_face_counts_only_when_the_second_opinion_finds_it_too(self, astronaut_bgr):
        """The short-range BlazeFace seconds the astronaut; a second opinion that sees no face, or sees one away
        from the centre of the window it is shown, withdraws it."""
        import copy

        from emotion_core.face.detection import FaceDetection

        class SecondOpinion:
            def __init__(self, where):
                self.where = where  # the found face's box as fractions of the window, or None for no face

            def detect(self, image_bgr, *, margin=0.0, min_score=None):
                if self.where is None:
                    return []
                side = image_bgr.shape[0]
                return [FaceDetection(box=tuple(round(f * side) for f in self.where), score=1.0)]

        shipped = load_detector("mtcnn", models_dir=MODELS)
        assert shipped.second_opinion is not None and len(shipped.detect(astronaut_bgr)) == 1
        for where, found in (((0.25, 0.25, 0.5, 0.5), 1), (None, 0), ((0.0, 0.0, 0.1, 0.1), 0)):
            detector = copy.copy(shipped)
            detector.second_opinion = SecondOpinion(where)
            assert len(detector.detect(astronaut_bgr)) == found


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
        with pytest.raises(InvalidInputError, match="blazeface, blazeface-short, mtcnn, haar"):
            load_detector("yolo", models_dir=MODELS)
