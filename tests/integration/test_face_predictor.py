"""The shipped face model end to end, on real faces that packages ship."""

import numpy as np
import pytest

from emotion_core.errors import InvalidInputError
from emotion_core.labels import EMOTIONS
from emotion_core.result import EmotionResult
from tests.conftest import MODELS


def test_astronaut_smiles(face_predictor, astronaut_bgr):
    (face,) = face_predictor.predict(astronaut_bgr)
    assert face.label == "happy"
    assert face.modality == "face" and face.model_id == face_predictor.model_id
    assert face.box is not None and face.landmarks is not None and face.detector_score > 0.5


def test_no_face_is_an_empty_answer_not_an_error(face_predictor, coffee_bgr):
    assert face_predictor.predict(coffee_bgr) == []


def test_two_faces_two_results(face_predictor, astronaut_bgr):
    pair = np.concatenate([astronaut_bgr, astronaut_bgr[:, ::-1]], axis=1)
    faces = face_predictor.predict(pair)
    assert len(faces) == 2 and {f.label for f in faces} == {"happy"}


def test_a_face_crop_like_fer2013(face_predictor, astronaut_bgr):
    """A tight grey 48x48 crop, as FER-2013 stores faces, goes through predict_crop."""
    import cv2

    crop = cv2.cvtColor(cv2.resize(astronaut_bgr[55:185, 160:290], (48, 48), interpolation=cv2.INTER_AREA),
                        cv2.COLOR_BGR2GRAY)
    result = face_predictor.predict_crop(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR))
    assert result.label == "happy"
    assert result.box == (0, 0, 48, 48)


def test_a_blurred_photo_is_answered_but_marked_uncertain(face_predictor, astronaut_bgr):
    import cv2

    (sharp,) = face_predictor.predict(astronaut_bgr)
    (blurred,) = face_predictor.predict(cv2.GaussianBlur(astronaut_bgr, (0, 0), 6))
    assert sharp.uncertain is None
    assert blurred.uncertain.startswith("face blurred")
    assert blurred.to_dict()["uncertain"] is True and blurred.to_dict()["uncertain_reason"] == blurred.uncertain


def test_the_cards_temperature_is_applied(astronaut_bgr):
    from emotion_core.face.predictor import FacePredictor
    from emotion_core.modelcard import load_card

    temperature = load_card(MODELS, "face_expression")["inference"].get("temperature", 1.0)
    predictor = FacePredictor.from_dir(MODELS)
    assert predictor.temperature == temperature
    face = predictor.predict(astronaut_bgr)[0]
    predictor.temperature = 1.0
    plain = predictor.predict(astronaut_bgr)[0]
    assert face.label == plain.label
    assert (face.confidence < plain.confidence) == (temperature > 1)


class TestPredictorContract:
    """What every predictor promises: a list of results whose scores sum to 1, the same answer twice,
    and InvalidInputError for input it cannot take."""

    def test_results_are_well_formed_and_deterministic(self, face_predictor, astronaut_bgr):
        first, second = face_predictor.predict(astronaut_bgr), face_predictor.predict(astronaut_bgr)
        assert all(isinstance(r, EmotionResult) for r in first)
        assert [r.scores for r in first] == [r.scores for r in second]
        assert sum(first[0].scores.values()) == pytest.approx(1.0, abs=1e-4)
        assert face_predictor.labels == EMOTIONS

    @pytest.mark.parametrize("bad", [np.zeros((5, 5, 3), np.uint8), np.zeros((64, 64), np.uint8),
                                     np.zeros((64, 64, 3), np.float64), "astronaut.png"])
    def test_bad_input(self, face_predictor, bad):
        with pytest.raises(InvalidInputError):
            face_predictor.predict(bad)
        with pytest.raises(InvalidInputError):
            face_predictor.predict_crop(bad)

    def test_classify_checks_its_batch(self, face_predictor):
        assert face_predictor.classify(np.zeros((0, 48, 48), np.uint8)).shape == (0, 7)
        with pytest.raises(InvalidInputError, match="48, 48"):
            face_predictor.classify(np.zeros((1, 64, 64), np.uint8))
