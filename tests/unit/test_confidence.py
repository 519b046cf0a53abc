"""Temperature scaling, calibration error, the distance from the training data, and the uncertain flag."""

import shutil
import subprocess

import numpy as np
import pytest

from emotion_core.confidence import (
    DistanceModel,
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    uncertain_reason,
)
from emotion_core.labels import EMOTIONS
from emotion_core.result import EmotionResult
from emotion_core.speech.predictor import Confidence, utterance_result


def overconfident(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Predictions from true class probabilities softmax(z), reported as softmax(3 z): right as often as
    softmax(z) says, but far surer."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.5, (n, 7))
    true_probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    truth = np.array([rng.choice(7, p=p) for p in true_probs])
    reported = np.exp(3 * logits) / np.exp(3 * logits).sum(1, keepdims=True)
    return reported, truth


def test_temperature_undoes_overconfidence_and_lowers_the_calibration_error():
    reported, truth = overconfident()
    temperature = fit_temperature(reported, truth)
    assert 2.6 < temperature < 3.4
    scaled = apply_temperature(reported, temperature)
    assert (scaled.argmax(1) == reported.argmax(1)).all() and np.allclose(scaled.sum(1), 1)
    assert expected_calibration_error(scaled, truth) < 0.03 < expected_calibration_error(reported, truth)


def test_calibration_error_by_hand():
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    truth = np.array([0, 1, 0, 1])
    # bin 0.9: confidence 0.9, accuracy 0.5; bin 0.6: confidence 0.6, accuracy 1.0; each half the items
    assert expected_calibration_error(probs, truth) == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)
    assert apply_temperature(np.array([[0.5, 0.5]]), 2.0) == pytest.approx(np.array([[0.5, 0.5]]))


def test_distance_is_near_one_for_training_like_inputs_and_large_far_away(tmp_path):
    rng = np.random.default_rng(0)
    training = rng.normal(0, 1, (500, 40)) @ rng.normal(0, 1, (40, 40))
    model = DistanceModel.fit(training, components=8)
    assert 0.8 < np.median(model.distance(training)) < 1.2
    assert model.distance(training[:1] + 50 * training.std(0)).item() > 5
    model.save(tmp_path / "d.npz")
    np.testing.assert_allclose(DistanceModel.load(tmp_path / "d.npz").distance(training[:5]),
                               model.distance(training[:5]), rtol=1e-2)


def test_uncertain_reasons_say_why_in_words():
    assert uncertain_reason(0.9, 1.2, min_confidence=0.45, max_distance=3.0) is None
    assert uncertain_reason(0.38, None, min_confidence=0.45, max_distance=3.0) == "confidence 0.38 below 0.45"
    assert uncertain_reason(0.9, 4.12, min_confidence=0.45, max_distance=3.0) == (
        "voice unlike the training recordings (distance 4.1, limit 3.0)")
    assert uncertain_reason(0.1, 9.0, min_confidence=None, max_distance=None) is None


def _segment(start: float, end: float, label: str, p: float, distance: float) -> EmotionResult:
    probs = np.full(7, (1 - p) / 6)
    probs[EMOTIONS.index(label)] = p
    return EmotionResult.from_probabilities(probs, modality="speech", model_id="m", span=(start, end),
                                            extra={"distance": distance})


def test_a_recording_is_uncertain_when_its_voice_lies_far_on_average():
    confidence = Confidence(min_confidence=0.4, max_distance=3.0)
    near = utterance_result([_segment(0, 2, "angry", 0.8, 1.0), _segment(2, 3, "angry", 0.8, 6.0)], model_id="m",
                            confidence=confidence)
    assert near.uncertain is None and near.extra["distance"] == pytest.approx(8 / 3, abs=1e-3)
    far = utterance_result([_segment(0, 1, "angry", 0.8, 1.0), _segment(1, 3, "angry", 0.8, 6.0)], model_id="m",
                           confidence=confidence)
    assert far.uncertain.startswith("voice unlike the training recordings")
    data = far.to_dict()
    assert data["uncertain"] is True and "distance" in data["uncertain_reason"]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_a_synthetic_voice_is_not_confidently_angry_or_happy(tmp_path):
    from emotion_core.config import Settings
    from emotion_core.speech.analysis import analyze_audio
    from emotion_core.speech.predictor import SpeechPredictor

    wav = tmp_path / "espeak.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "I am so angry"], check=True, capture_output=True)
    predictor = SpeechPredictor.from_dir(Settings.from_env().models_dir)
    analysis = analyze_audio(wav, predictor, name=wav.name)
    assert analysis.overall is not None
    assert analysis.overall.confidence < 0.6 or analysis.overall.uncertain
    for segment in analysis.segments:
        assert segment.confidence < 0.6 or segment.uncertain
