import math

import numpy as np
import pytest

from emotion_core.face.alignment import FACE_SIZE, _cut, align_face, eye_angle, face_square, prepare_face_crop
from emotion_core.face.detection import FaceDetection


def eyes_image(angle_deg: float, size: int = 400):
    """A grey canvas with two bright 'eyes' 100 px apart, the line between them rolled by ``angle_deg``."""
    import cv2

    canvas = np.zeros((size, size), np.uint8)
    centre = np.array([size / 2, size / 2])
    offset = 50 * np.array([math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))])
    right_eye, left_eye = centre - offset, centre + offset
    for x, y in (right_eye, left_eye):
        cv2.circle(canvas, (round(x), round(y)), 8, 255, -1)
    return canvas, {"right_eye": tuple(right_eye), "left_eye": tuple(left_eye)}


class TestLevelling:
    def test_eye_angle_sign_and_absence(self):
        assert eye_angle({"right_eye": (0, 0), "left_eye": (10, 10)}) == pytest.approx(45)
        assert eye_angle(None) == 0.0

    @pytest.mark.parametrize("roll", [-25.0, 0.0, 18.0])
    def test_aligned_eyes_are_level(self, roll):
        gray, landmarks = eyes_image(roll)
        out = align_face(gray, centre=(200, 200), side=240, angle=eye_angle(landmarks))
        assert out.shape == (FACE_SIZE, FACE_SIZE) and out.dtype == np.uint8
        ys, xs = np.nonzero(out > 128)
        left, right = xs < FACE_SIZE / 2, xs >= FACE_SIZE / 2
        assert ys[left].mean() == pytest.approx(ys[right].mean(), abs=0.75)

    def test_framing_follows_the_detector_calibration(self):
        detection = FaceDetection(box=(100, 100, 100, 100), score=0.9)
        cx, cy, side = face_square(detection, "blazeface")
        assert (cx, side) == (150, pytest.approx(112))
        assert cy < 150  # FER-2013 crops sit a little higher than BlazeFace's box


class TestCropping:
    def test_cut_mirrors_outside_the_image(self):
        gray = np.arange(100, dtype=np.uint8).reshape(10, 10)
        window = _cut(gray, -3, -2, 5, 6)
        assert window.shape == (8, 8)
        assert np.array_equal(window[2:, 3:], gray[:6, :5])

    def test_a_face_crop_keeps_its_framing(self):
        gray = np.tile(np.arange(48, dtype=np.uint8) * 5, (48, 1))
        out = prepare_face_crop(gray, None)
        assert out.shape == (FACE_SIZE, FACE_SIZE)
        assert (np.diff(out.astype(int), axis=1) >= 0).all()  # no rotation, no flip: still a left-right ramp
