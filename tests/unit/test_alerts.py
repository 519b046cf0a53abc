import pytest

from emotion_core.alerts import Rule, evaluate_rules


def timeline(shares, *, modality="face", step=0.1, label="angry"):
    """Rows every ``step`` seconds with p_angry from ``shares`` (the rest happy)."""
    return [{"modality": modality, "start_s": round(i * step, 3), "end_s": None, "label": label, "p_angry": share,
             "p_happy": 1 - share} for i, share in enumerate(shares)]


class TestSustained:
    rule = Rule("negative for 3 s", "sustained", threshold=0.6, min_seconds=3.0)

    def test_fires_over_the_span_above_the_threshold(self):
        rows = timeline([0.1] * 10 + [0.9] * 35 + [0.1] * 10)  # 1.0 s to 4.5 s above 60 %
        (event,) = evaluate_rules([self.rule], rows)
        assert (event.start_s, event.end_s) == (1.0, pytest.approx(4.5))
        assert "3.5 s" in event.detail and "peak 90%" in event.detail

    def test_does_not_fire_when_too_short_or_too_low(self):
        assert evaluate_rules([self.rule], timeline([0.1] * 10 + [0.9] * 25 + [0.1] * 10)) == []  # 2.5 s
        assert evaluate_rules([self.rule], timeline([0.6] * 60)) == []  # at, not above, the threshold

    def test_a_dip_splits_the_run(self):
        rows = timeline([0.9] * 20 + [0.2] + [0.9] * 20)
        assert evaluate_rules([self.rule], rows) == []

    def test_the_most_negative_face_counts(self):
        calm = timeline([0.1] * 40)
        upset = timeline([0.9] * 40)
        assert len(evaluate_rules([self.rule], calm + upset)) == 1

    def test_frames_without_a_face_break_nothing_and_count_for_nothing(self):
        rows = timeline([0.9] * 40) + [{"modality": "face", "start_s": 4.0, "label": "no face"}]
        assert len(evaluate_rules([self.rule], rows)) == 1


class TestMultimodal:
    rule = Rule("negative in two modalities", "multimodal", threshold=0.5, min_seconds=5.0)

    def test_fires_when_two_modalities_agree_in_a_window(self):
        rows = timeline([0.8] * 30, modality="face") + timeline([0.9], modality="speech", step=1.0)
        (event,) = evaluate_rules([self.rule], rows)
        assert (event.start_s, event.end_s) == (0.0, 5.0) and "face and speech" in event.detail

    def test_one_modality_is_not_enough(self):
        rows = timeline([0.8] * 30, modality="face") + timeline([0.1], modality="speech", step=1.0)
        assert evaluate_rules([self.rule], rows) == []


def test_unknown_kind():
    with pytest.raises(ValueError, match="rule kind"):
        evaluate_rules([Rule("x", "sometimes")], timeline([0.9]))
