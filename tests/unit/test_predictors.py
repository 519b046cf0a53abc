import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from emotion_core.config import Settings
from emotion_core.errors import ModelUnavailableError
from emotion_core.predictors import load_predictors
from emotion_core.text.predictor import TextPredictor
from tests.conftest import MODELS


class TestLoadPredictors:
    def test_nothing_is_read_until_a_model_is_asked_for(self, tmp_path):
        predictors = load_predictors(Settings(models_dir=tmp_path))  # an empty folder: no error yet
        with pytest.raises(ModelUnavailableError, match="text_emotion"):
            predictors.text()

    def test_concurrent_first_requests_load_a_model_once(self, monkeypatch):
        loads = []

        def slow_load(cls, models_dir):
            loads.append(threading.get_ident())
            time.sleep(0.05)  # long enough for every thread to ask while the first one loads
            return object()

        monkeypatch.setattr(TextPredictor, "from_dir", classmethod(slow_load))
        predictors = load_predictors(Settings(models_dir=MODELS))
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda _: predictors.text(), range(8)))
        assert len(loads) == 1
        assert all(g is got[0] for g in got)

    def test_a_failed_load_is_retried(self, monkeypatch):
        outcomes = iter([ModelUnavailableError("not yet"), "loaded"])

        def load(cls, models_dir):
            outcome = next(outcomes)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        monkeypatch.setattr(TextPredictor, "from_dir", classmethod(load))
        predictors = load_predictors(Settings(models_dir=MODELS))
        with pytest.raises(ModelUnavailableError):
            predictors.text()
        assert predictors.text() == "loaded"

    def test_face_models_are_kept_per_model_and_detector(self):
        predictors = load_predictors(Settings(models_dir=MODELS, face_detector="blazeface-short"))
        default = predictors.face()
        assert default is predictors.face("face_expression", detector="blazeface-short")
        assert default.detector.name == "blazeface-short"
        assert predictors.face(detector="haar").detector.name == "haar"
        assert list(predictors.face_models())[0] == "face_expression"
