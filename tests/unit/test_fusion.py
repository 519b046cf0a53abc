"""Fusion arithmetic against hand-computed values, and the alignment of modalities in time windows."""

import numpy as np
import pytest

from emotion_core.face.stream import FrameReport
from emotion_core.fusion.windows import (
    UNCERTAIN_WEIGHT,
    default_weights,
    fuse,
    fuse_timeline,
    majority_vote,
    timeline_from,
    weighted_average,
)
from emotion_core.labels import EMOTIONS
from emotion_core.result import EmotionResult


def p(**scores) -> np.ndarray:
    vector = np.array([scores.get(e, 0.0) for e in EMOTIONS])
    return vector / vector.sum()


def at(modality: str, start_s: float, end_s: float, probabilities: np.ndarray, *,
       uncertain: bool = False) -> EmotionResult:
    """A result on the timeline (an instant when it starts where it ends)."""
    return EmotionResult.from_probabilities(probabilities, modality=modality, model_id="m", span=(start_s, end_s),
                                            uncertain="doubtful" if uncertain else None)


class TestArithmetic:
    def test_weighted_average_by_hand(self):
        face, voice = p(happy=0.8, sad=0.2), p(angry=0.6, sad=0.4)
        fused = weighted_average({"face": face, "speech": voice}, {"face": 0.7, "speech": 0.3})
        # happy 0.7*0.8/1.0 = 0.56, sad (0.7*0.2 + 0.3*0.4) = 0.26, angry 0.3*0.6 = 0.18
        assert fused[EMOTIONS.index("happy")] == pytest.approx(0.56)
        assert fused[EMOTIONS.index("sad")] == pytest.approx(0.26)
        assert fused[EMOTIONS.index("angry")] == pytest.approx(0.18)
        assert fused.sum() == pytest.approx(1.0)

    def test_weights_need_not_sum_to_one(self):
        a = weighted_average({"face": p(happy=1), "text": p(sad=1)}, {"face": 2, "text": 2})
        assert a[EMOTIONS.index("happy")] == pytest.approx(0.5)

    def test_majority_vote_and_its_tie_break(self):
        votes = majority_vote({"face": p(happy=0.9, sad=0.1), "speech": p(happy=0.6, angry=0.4),
                               "text": p(angry=0.7, happy=0.3)}, dict.fromkeys(("face", "speech", "text"), 1.0))
        assert votes[EMOTIONS.index("happy")] == pytest.approx(2 / 3, abs=1e-5)
        assert votes[EMOTIONS.index("angry")] == pytest.approx(1 / 3, abs=1e-5)
        tie = majority_vote({"face": p(happy=1), "speech": p(angry=1)}, {"face": 0.9, "speech": 0.1})
        assert int(np.argmax(tie)) == EMOTIONS.index("happy")  # the heavier modality wins the tie

    def test_fuse_reports_each_modalitys_share_of_the_decision(self):
        result, shares = fuse({"face": p(happy=0.8, sad=0.2), "speech": p(happy=0.2, sad=0.8)},
                              weights={"face": 0.75, "speech": 0.25})
        assert result.modality == "fused" and result.label == "happy"
        # support for happy: face 0.75*0.8 = 0.6, speech 0.25*0.2 = 0.05
        assert shares == pytest.approx({"face": 0.6 / 0.65, "speech": 0.05 / 0.65})

    def test_bad_method_and_weights(self):
        with pytest.raises(ValueError):
            fuse({"face": p(happy=1)}, weights={"face": 1}, method="median")
        with pytest.raises(ValueError):
            weighted_average({"face": p(happy=1)}, {"face": 0})


class TestTimeline:
    def test_alignment_in_windows(self):
        observations = [
            *(at("face", t / 10, t / 10, p(happy=1)) for t in range(0, 20)),  # frames 0-1.9 s
            at("speech", 0.5, 1.5, p(angry=1)),  # half of window 0, half of window 1
            at("text", 1.0, 3.0, p(sad=1)),
        ]
        weights = {"face": 1.0, "speech": 1.0, "text": 1.0}
        windows = fuse_timeline(observations, duration_s=3.0, window_s=1.0, weights=weights)
        assert [(w.start_s, w.end_s) for w in windows] == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]
        assert [sorted(w.per_modality) for w in windows] == [["face", "speech"], ["face", "speech", "text"],
                                                             ["text"]]
        first = windows[0].fused.scores
        assert first["happy"] == pytest.approx(0.5) and first["angry"] == pytest.approx(0.5)
        assert windows[1].fused.scores["sad"] == pytest.approx(1 / 3)
        assert windows[2].fused.label == "sad" and not windows[2].disagreement
        assert windows[1].disagreement

    def test_a_window_with_nothing_is_empty_not_guessed(self):
        windows = fuse_timeline([at("face", 0.2, 0.2, p(happy=1))], duration_s=2.0, window_s=1.0,
                                weights={"face": 1.0})
        assert windows[1].fused is None and windows[1].per_modality == {}
        assert windows[1].to_row()["label"] == "none"

    def test_a_zero_weight_leaves_a_modality_out(self):
        observations = [at("face", 0.1, 0.1, p(happy=1)), at("speech", 0, 1, p(sad=1))]
        (window,) = fuse_timeline(observations, duration_s=1.0, weights={"face": 1.0, "speech": 0.0})
        assert list(window.per_modality) == ["face"] and window.fused.label == "happy"

    def test_an_uncertain_modality_weighs_less_but_is_heard_alone(self):
        doubtful_speech = at("speech", 0.0, 1.0, p(angry=1), uncertain=True)
        (both,) = fuse_timeline([at("face", 0.5, 0.5, p(happy=1)), doubtful_speech], duration_s=1.0,
                                weights={"face": 1.0, "speech": 1.0})
        assert both.fused.scores["happy"] == pytest.approx(1 / (1 + UNCERTAIN_WEIGHT))
        assert both.uncertain_share == {"face": 0.0, "speech": 1.0} and both.to_row()["speech_uncertain"] == 1.0
        (alone,) = fuse_timeline([doubtful_speech], duration_s=1.0, weights={"face": 1.0, "speech": 1.0})
        assert alone.fused.label == "angry" and alone.to_row()["face_uncertain"] is None

    def test_the_timeline_carries_the_uncertain_mark(self):
        doubtful = at("speech", 0.0, 1.0, p(sad=1), uncertain=True)
        face = EmotionResult.from_probabilities(p(happy=1), modality="face", model_id="f", uncertain="tiny face")
        frame = FrameReport(index=0, time_s=0.0, faces=[face], detected=True, latency_ms=1.0)
        assert [r.uncertain for r in timeline_from([frame], [doubtful])] == ["tiny face", "doubtful"]

    def test_a_timeline_from_every_modality(self):
        face = EmotionResult.from_probabilities(p(happy=1), modality="face", model_id="f", box=(1, 2, 30, 30))
        frames = [FrameReport(index=0, time_s=0.0, faces=[face], detected=True, latency_ms=1.0),
                  FrameReport(index=1, time_s=0.04, faces=[], detected=True, latency_ms=1.0)]
        segment = at("speech", 0.5, 2.0, p(sad=1))
        cue = EmotionResult.from_probabilities(p(angry=1), modality="text", model_id="t")
        found = timeline_from(frames, [segment], [(1.0, 2.0, cue)])
        assert [(r.modality, r.span) for r in found] == [("face", (0.0, 0.0)), ("speech", (0.5, 2.0)),
                                                          ("text", (1.0, 2.0))]
        assert found[0].box == (1, 2, 30, 30) and found[0].scores == face.scores

    def test_every_result_on_a_timeline_needs_its_span(self):
        with pytest.raises(ValueError, match="span"):
            fuse_timeline([EmotionResult.from_probabilities(p(sad=1), modality="speech", model_id="s")],
                          duration_s=1.0, weights={"speech": 1.0})


def test_default_weights_come_from_validation_figures_in_the_cards():
    cards = [{"modality": "face", "task": "facial expression recognition",
              "metrics": {"PublicTest": {"accuracy": 0.69}}},
             {"modality": "speech", "training": {"held_out_mean_uar": 0.61}},
             {"modality": "speech", "name": "speech_emotion_calibrated", "training": {"held_out_mean_uar": 0.75}},
             {"modality": "face", "task": "face detection"}]
    assert default_weights(cards) == pytest.approx({"face": 0.69, "speech": 0.61, "text": 1 / 7})
    text = {"modality": "text", "validation": {"selection_score": 0.73}}
    assert default_weights([*cards, text]) == pytest.approx({"face": 0.69, "speech": 0.61, "text": 0.73})
