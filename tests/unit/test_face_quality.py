"""Each reason to doubt a face, on faces made from skimage's astronaut and on synthetic keypoints."""

import cv2
import numpy as np
import pytest

from emotion_core.face.alignment import prepare_detected_face, to_gray
from emotion_core.face.detection import FaceDetection
from emotion_core.face.quality import (
    MAX_NOSE_OFFSET,
    MIN_FACE_SIDE,
    MIN_SHARPNESS,
    face_doubt,
    face_side,
    nose_offset,
    sharpness,
)

BOX = (173, 68, 106, 106)  # where BlazeFace finds the astronaut's face
FRONTAL = {"right_eye": (205.0, 104.0), "left_eye": (250.0, 104.0), "nose": (227.5, 125.0),
           "mouth": (228.0, 145.0)}


def doubt_for(image_bgr, scale: float = 1.0, landmarks=FRONTAL):
    detection = FaceDetection(box=tuple(round(v * scale) for v in BOX), score=0.9,
                              landmarks={k: (x * scale, y * scale) for k, (x, y) in landmarks.items()})
    face = prepare_detected_face(to_gray(image_bgr), detection, "blazeface")
    return face_doubt(detection, face, detector="blazeface")


class TestFaceDoubt:
    def test_a_sharp_frontal_face_is_trusted(self, astronaut_bgr):
        assert doubt_for(astronaut_bgr) is None

    def test_a_small_face(self, astronaut_bgr):
        scale = 1 / 6  # a 106 px face becomes 18 px wide
        small = cv2.resize(astronaut_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        assert doubt_for(small, scale).startswith("face too small")

    def test_a_blurred_face(self, astronaut_bgr):
        assert doubt_for(cv2.GaussianBlur(astronaut_bgr, (0, 0), 4)).startswith("face blurred")

    def test_a_face_in_profile(self, astronaut_bgr):
        profile = {**FRONTAL, "nose": (256.0, 125.0)}  # the nose beyond the left eye
        assert doubt_for(astronaut_bgr, landmarks=profile).startswith("face in profile")


class TestMeasures:
    def test_nose_offset_is_zero_when_frontal_and_ignores_roll(self):
        assert nose_offset(FRONTAL) == pytest.approx(0.0, abs=0.01)
        rolled = {"right_eye": (0.0, 0.0), "left_eye": (30.0, 30.0), "nose": (30.0, 0.0)}  # 45 deg, nose centred
        assert nose_offset(rolled) == pytest.approx(0.0, abs=1e-9)
        turned = {"right_eye": (0.0, 0.0), "left_eye": (40.0, 0.0), "nose": (40.0, 20.0)}  # nose under an eye
        assert nose_offset(turned) == pytest.approx(0.5)
        assert nose_offset(None) is None and nose_offset({"nose": (1.0, 1.0)}) is None

    def test_sharpness_falls_with_blur(self, astronaut_bgr):
        face = cv2.equalizeHist(cv2.resize(to_gray(astronaut_bgr)[68:174, 173:279], (48, 48)))
        assert sharpness(face) > MIN_SHARPNESS > sharpness(cv2.GaussianBlur(face, (0, 0), 1.5))
        assert sharpness(np.full((48, 48), 128, np.uint8)) == 0.0

    def test_face_side_follows_the_framing_or_the_whole_crop(self):
        assert face_side(FaceDetection(box=(0, 0, 100, 100), score=1.0), "blazeface") == pytest.approx(112.0)
        crop = FaceDetection(box=(0, 0, 48, 40), score=None, method="whole image")
        assert face_side(crop, "blazeface") == 48.0
        assert 0 < MIN_FACE_SIDE < 48 and 0 < MAX_NOSE_OFFSET < 1
