"""The photo search every surface runs: the detector, then the close-up looks that find a face filling the image."""

import cv2
import numpy as np
import pytest

from emotion_core.face.alignment import face_square, reframe
from emotion_core.face.detection import FaceDetection, FaceVerifier, available_detectors, load_detector
from emotion_core.face.search import (
    CLOSE_UP_LOOKS,
    CLOSE_UP_ROLLS,
    CLOSE_UP_SCORE,
    close_up_look,
    find_faces,
    rolled_close_up,
    turned_faces,
)
from tests.conftest import MODELS


@pytest.fixture(scope="module")
def blazeface():
    return load_detector("blazeface", models_dir=MODELS)


@pytest.mark.parametrize("side", [110, 400])
def test_a_face_filling_the_image_is_found_and_classified_as_the_whole_image(face_predictor, blazeface, face_crop_bgr,
                                                                              side):
    image = cv2.resize(face_crop_bgr, (side, side), interpolation=cv2.INTER_CUBIC)
    assert blazeface.detect(image) == []  # what the detector alone sees: nothing
    (face,) = find_faces(blazeface, image)
    assert face.method == "whole image" and face.box == (0, 0, side, side)
    assert face.landmarks["right_eye"][0] < face.landmarks["left_eye"][0] < side
    (result,) = face_predictor.predict(image)
    assert result.label == "happy" and result.extra["detection"] == "whole image"


def test_a_photo_keeps_the_detectors_face(face_predictor, astronaut_bgr):
    (result,) = face_predictor.predict(astronaut_bgr)
    assert result.extra["detection"] == "detector" and result.box[2] < 200


@pytest.mark.parametrize("name", available_detectors())
def test_no_face_in_a_coffee_cup_even_close_up(name, coffee_bgr):
    detector = load_detector(name, models_dir=MODELS)
    cup = np.ascontiguousarray(coffee_bgr[30:330, 130:430])
    assert find_faces(detector, coffee_bgr) == [] and find_faces(detector, cup) == []


def test_the_detector_alone_on_request(blazeface, face_crop_bgr):
    assert find_faces(blazeface, face_crop_bgr, close_up=False) == []


@pytest.mark.parametrize("name", ["blazeface-short", "haar"])
def test_a_margin_keeps_boxes_in_the_images_pixels(name, astronaut_bgr):
    detector = load_detector(name, models_dir=MODELS)
    head = np.ascontiguousarray(astronaut_bgr[10:250, 110:350])
    (plain,) = detector.detect(head)
    (framed,) = detector.detect(head, margin=0.5)
    assert framed.box == pytest.approx(plain.box, abs=0.15 * plain.box[2])


def test_reframing_keeps_the_face_square():
    found = FaceDetection(box=(100, 120, 80, 80), score=0.9)
    moved = reframe(found, "blazeface-short", "blazeface")
    assert face_square(moved, "blazeface") == pytest.approx(face_square(found, "blazeface-short"), abs=1)
    assert reframe(found, "haar", "haar") is found


@pytest.fixture(scope="module")
def verifier():
    return FaceVerifier.from_dir(MODELS)


def test_the_verifier_finds_the_face_that_fills_the_image(verifier, face_crop_bgr):
    face = verifier.whole_image(face_crop_bgr)
    assert face.score > 0.9 and face.box[2] > 0.6 * face_crop_bgr.shape[1]
    assert face.landmarks["right_eye"][0] < face.landmarks["nose"][0] < face.landmarks["left_eye"][0]


class FirstLookBlind:
    """A close-up detector that misses the face in the first look of every close-up and sees it in the others."""

    name = "blazeface-short"

    def __init__(self):
        self.looks = 0

    def detect(self, image_bgr, *, margin=0.0, min_score=None):
        self.looks += 1
        height, width = image_bgr.shape[:2]
        return [] if self.looks % len(CLOSE_UP_LOOKS) == 1 else [FaceDetection(box=(0, 0, width, height), score=0.9)]


def test_the_verifier_votes_and_stands_in_for_a_first_look_that_missed(verifier, face_crop_bgr):
    face, found_by, vote = close_up_look(FirstLookBlind(), face_crop_bgr, verifier)
    assert found_by == verifier.name and face.score > 0.9
    assert vote > 0.5 * (len(CLOSE_UP_LOOKS) - 1 + 2) / (len(CLOSE_UP_LOOKS) + 2)

    class Detector:
        name = "blazeface"

        def __init__(self, verifier):
            self.close_up, self.verifier, self.judge = FirstLookBlind(), verifier, None

        def detect(self, image_bgr, *, margin=0.0, min_score=None):
            return []

    (found,) = find_faces(Detector(verifier), face_crop_bgr)
    assert found.method == "whole image" and found.landmarks["right_eye"][0] < found.landmarks["left_eye"][0]
    assert find_faces(Detector(None), face_crop_bgr) == []  # no face to stand in for the first look's


@pytest.mark.parametrize("roll", [30, -30])
def test_a_tilted_headshot_is_the_whole_image(blazeface, face_crop_bgr, roll):
    image = cv2.resize(face_crop_bgr, (400, 400), interpolation=cv2.INTER_CUBIC)
    tilted = cv2.warpAffine(image, cv2.getRotationMatrix2D((200, 200), roll, 1.0), (400, 400),
                            borderMode=cv2.BORDER_REPLICATE)
    (found,) = find_faces(blazeface, tilted)
    assert found.method == "whole image" and found.score >= CLOSE_UP_SCORE


class SeesOnlyTurned:
    """A close-up detector that sees a face only once the image is turned (after the upright close-up's looks),
    its eyes level at fixed places of the turned image."""

    name = "blazeface-short"
    eyes = {"right_eye": (150.0, 180.0), "left_eye": (250.0, 180.0)}

    def __init__(self):
        self.looks = 0

    def detect(self, image_bgr, *, margin=0.0, min_score=None):
        self.looks += 1
        return [] if self.looks <= len(CLOSE_UP_LOOKS) else [
            FaceDetection(box=(100, 100, 200, 200), score=0.9, landmarks=self.eyes)]


def test_a_face_found_turned_comes_back_in_the_images_pixels(face_crop_bgr):
    class Detector:
        name = "blazeface-short"

        def __init__(self):
            self.close_up, self.verifier = SeesOnlyTurned(), None

    image = cv2.resize(face_crop_bgr, (400, 400))
    face, vote = rolled_close_up(Detector(), image)
    assert vote == pytest.approx(0.9)
    back = cv2.invertAffineTransform(cv2.getRotationMatrix2D((200, 200), CLOSE_UP_ROLLS[1], 1.0))
    for eye, (x, y) in SeesOnlyTurned.eyes.items():
        assert face.landmarks[eye] == pytest.approx(tuple(back @ np.array([x, y, 1.0])))
    assert face.box == (100, 100, 200, 200)  # the box's centre is the turn's centre
    right, left = face.landmarks["right_eye"], face.landmarks["left_eye"]
    assert np.degrees(np.arctan2(left[1] - right[1], left[0] - right[0])) == pytest.approx(CLOSE_UP_ROLLS[1])


@pytest.mark.parametrize(("name", "roll"), [("mtcnn", -45), ("blazeface", -30)])
def test_a_tilted_head_missed_upright_is_found_in_the_turned_photo(name, roll):
    from skimage import data

    detector = load_detector(name, models_dir=MODELS)
    camera = cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR)
    matrix = cv2.getRotationMatrix2D((256, 256), roll, 1.0)
    tilted = cv2.warpAffine(camera, matrix, (512, 512), borderMode=cv2.BORDER_REPLICATE)
    assert detector.detect(tilted) == []  # upright, the detector misses the cameraman's tilted head
    (face,) = find_faces(detector, tilted)
    x, y, w, h = face.box
    face_centre = matrix @ np.array([239.5, 158.5, 1.0])  # where his face went when the photo was tilted
    assert (x + w / 2, y + h / 2) == pytest.approx(tuple(face_centre), abs=0.3 * w)


def test_a_turned_look_needs_the_verifiers_word(verifier, coffee_bgr):
    class SeesFacesEverywhere:
        name, close_up = "mtcnn", None

        def __init__(self, verifier):
            self.verifier = verifier

        def detect(self, image_bgr, *, margin=0.0, min_score=None):
            return [FaceDetection(box=(150, 60, 180, 180), score=0.99)]  # the coffee cup

    assert turned_faces(SeesFacesEverywhere(verifier), coffee_bgr) == []  # O-Net: not a face, either way
    assert turned_faces(SeesFacesEverywhere(None), coffee_bgr) == []  # no verifier, no turned face
