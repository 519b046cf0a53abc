"""One contract, run against every shipped predictor (our version of scikit-learn's ``parametrize_with_checks``).

Every predictor that :func:`~emotion_core.predictors.load_predictors` gives: has the attributes of
:class:`~emotion_core.predictors.Predictor`, keeps ``__init__`` to storing its keyword arguments, answers its
modality's input with results that follow :class:`~emotion_core.result.EmotionResult`'s rules, answers "nothing
there" with an empty list, refuses every bad input with :class:`InvalidInputError`, and says the same twice.
"""

from __future__ import annotations

import inspect
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from emotion_core.config import Settings
from emotion_core.errors import InvalidInputError
from emotion_core.face.hybrid import HYBRID_MODEL
from emotion_core.labels import EMOTIONS
from emotion_core.modalities import MODALITIES
from emotion_core.modelcard import list_cards
from emotion_core.predictors import Predictor, load_predictors
from emotion_core.result import EmotionResult
from emotion_core.speech.audio import SAMPLE_RATE, Audio, decode_audio
from emotion_core.speech.predictor import SpeakerProfile, segment_functionals, voiced_segments
from tests.conftest import MODELS

SILENCE = Audio(samples=np.zeros(SAMPLE_RATE, np.float32), source="silence")


@dataclass(frozen=True)
class Case:
    """A predictor, an input it must find something in, one where there is nothing, and inputs it must refuse."""

    predictor: Predictor
    found: Any
    nothing: Any
    bad: tuple[Any, ...]


@pytest.fixture(scope="module")
def predictors():
    return load_predictors(Settings(models_dir=MODELS))


@pytest.fixture(scope="module")
def speech_audio(tmp_path_factory) -> Audio:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "I cannot believe you did that to me!"], check=True,
                   capture_output=True)
    return decode_audio(path)


@pytest.fixture(scope="module")
def long_speech_audio(speech_audio, predictors, tmp_path_factory) -> Audio:
    """Enough voiced segments for the self-calibrated model: phrases in several voices, with pauses between."""
    phrases = ["I cannot believe you did that to me!", "What a lovely day it is.", "Please leave me alone.",
               "Oh no, not again.", "That is wonderful news!", "I am not sure about this."]
    pause = np.zeros(int(0.6 * SAMPLE_RATE), np.float32)
    needed = predictors.speech().self_calibrated.min_segments + 2
    pieces, k = [pause], 0
    while len(voiced_segments(np.concatenate(pieces))) < needed:
        path = tmp_path_factory.mktemp("long") / "phrase.wav"
        subprocess.run(["espeak-ng", "-p", str(20 + 15 * (k % 5)), "-s", str(140 + 10 * (k % 4)), "-w", str(path),
                        phrases[k % len(phrases)]], check=True, capture_output=True)
        pieces += [decode_audio(path).samples, pause]
        k += 1
    return Audio(samples=np.concatenate(pieces), source="long speech")


def _face_case(request, predictor) -> Case:
    return Case(predictor, request.getfixturevalue("astronaut_bgr"), request.getfixturevalue("coffee_bgr"),
                bad=(None, "astronaut.png", np.zeros((64, 64), np.uint8), np.zeros((64, 64, 3), np.float32),
                     np.zeros((4, 4, 3), np.uint8)))


def _speech_case(request, predictor) -> Case:
    return Case(predictor, request.getfixturevalue("speech_audio"), SILENCE,
                bad=(None, b"RIFF....WAVE", np.zeros(SAMPLE_RATE, np.float32),
                     Audio(samples=np.zeros((2, SAMPLE_RATE), np.float32), source="stereo"),
                     Audio(samples=np.zeros(SAMPLE_RATE, np.int16), source="int16")))


def _self_calibrated_case(request, predictors) -> Case:
    case = _speech_case(request, predictors.speech().self_calibrated)
    # one sentence has too few segments to calibrate on: refused, the shipped model judges such recordings
    return Case(case.predictor, request.getfixturevalue("long_speech_audio"), SILENCE,
                bad=(*case.bad, request.getfixturevalue("speech_audio")))


def _calibrated(request, predictors):
    audio = request.getfixturevalue("speech_audio")
    rows = segment_functionals(audio)
    return predictors.calibrated_speech().for_speaker(SpeakerProfile(mean=rows.mean(0), segments=len(rows)))


CASES = {
    "face": lambda request, p: _face_case(request, p.face()),
    "seed002 hybrid face": lambda request, p: _face_case(request, p.face(HYBRID_MODEL)),
    "MobileNetV2 face": lambda request, p: _face_case(request, p.face("face_expression_mnv2")),
    "speech": lambda request, p: _speech_case(request, p.speech()),
    "calibrated speech": lambda request, p: _speech_case(request, _calibrated(request, p)),
    "self-calibrated speech": _self_calibrated_case,
    "text": lambda request, p: Case(p.text(), ["What a wonderful surprise!", "I am furious with you."], [],
                                    bad=("one string", None, [1, 2], ["fine", None])),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request, predictors) -> Case:
    return CASES[request.param](request, predictors)


class _Untouchable:
    """An argument that fails the test when ``__init__`` does anything with it but store it."""

    def __getattr__(self, name: str):
        raise AssertionError(f"__init__ used its argument (.{name}); it should only store it")


def test_every_shipped_model_is_covered():
    """A new card of a predicting model needs a case here (detectors are not predictors)."""
    names = {card["name"] for card in list_cards(MODELS) if card.get("task") != "face detection"}
    assert names == {"face_expression", "face_expression_mnv2", "seed002_hybrid", "speech_emotion",
                     "speech_emotion_calibrated", "speech_emotion_self_calibrated", "text_emotion"}
    assert len(CASES) == len(names)


class TestPredictorContract:
    def test_has_the_protocol_attributes(self, case):
        predictor = case.predictor
        assert isinstance(predictor, Predictor)
        assert tuple(predictor.labels) == EMOTIONS
        assert predictor.modality in MODALITIES
        assert predictor.model_id in {card["model_id"] for card in list_cards(MODELS)}

    def test_init_takes_keyword_arguments_and_only_stores_them(self, case):
        cls = type(case.predictor)
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
        assert parameters and all(p.kind is p.KEYWORD_ONLY for p in parameters)
        given = {p.name: _Untouchable() for p in parameters}
        built = cls(**given)
        assert all(getattr(built, name) is value for name, value in given.items())

    def test_predict_returns_one_checked_result_per_item(self, case):
        results = case.predictor.predict(case.found)
        assert isinstance(results, list) and results
        for result in results:
            assert isinstance(result, EmotionResult)
            assert result.modality == case.predictor.modality
            assert result.model_id == case.predictor.model_id
            assert tuple(result.scores) == EMOTIONS
            assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-3)

    def test_nothing_found_is_an_empty_list(self, case):
        assert case.predictor.predict(case.nothing) == []

    def test_refuses_every_bad_input(self, case):
        for bad in case.bad:
            with pytest.raises(InvalidInputError):
                case.predictor.predict(bad)

    def test_same_input_same_output(self, case):
        def answer():
            return [{k: v for k, v in r.to_dict().items() if k != "latency_ms"} for r in case.predictor.predict(
                case.found)]

        assert answer() == answer()
