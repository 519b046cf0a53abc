import pytest

from emotion_core.alerts import MAX_GAP_S, TOLERANCE_S, Rule, evaluate_rules
from emotion_core.errors import InvalidInputError


def timeline(shares, *, modality="face", step=0.1, label="angry"):
    """Rows every ``step`` seconds, stored to the millisecond, with p_angry from ``shares`` (the rest happy)."""
    return [{"modality": modality, "start_s": round(i * step, 3), "end_s": None, "label": label, "p_angry": share,
             "p_happy": 1 - share} for i, share in enumerate(shares)]


def frames(times, share, *, label="angry"):
    return [{"modality": "face", "start_s": t, "end_s": None, "label": label, "p_angry": share} for t in times]


def no_face(times):
    return [{"modality": "face", "start_s": t, "end_s": None, "label": "no face"} for t in times]


def rule(seconds, threshold=0.6):
    return Rule(f"negative for {seconds} s", "sustained", threshold=threshold, min_seconds=seconds)


class TestSustained:
    rule = rule(3.0)

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

    def test_the_last_frame_lasts_a_typical_frame_interval(self):
        (event,) = evaluate_rules([self.rule], timeline([0.9] * 30))  # 0.0 to 2.9 s, and 0.1 s more
        assert event.end_s == pytest.approx(3.0)


class TestFrameTimesAsStored:
    """Frame times rounded to the millisecond, uneven live frames, and gaps in what was seen."""

    @pytest.mark.parametrize("fps", [30, 30000 / 1001, 25])
    def test_a_video_stretch_is_measured_at_any_frame_rate(self, fps):
        times = [round(i / fps, 3) for i in range(int(3 * fps))]
        above = [t for t in times if 0.7 <= t < 2.3]
        rows = frames([t for t in times if t not in above], 0.1) + frames(above, 0.8)
        (event,) = evaluate_rules([rule(1.0)], rows)
        assert event.start_s == pytest.approx(0.7, abs=0.04) and event.end_s == pytest.approx(2.3, abs=0.04)
        assert "1.6 s" in event.detail
        assert evaluate_rules([rule(2.0)], rows) == []

    def test_live_frames_arrive_unevenly(self):
        times = [0.0, 0.4, 1.0, 1.1, 1.9, 2.2, 2.6, 3.5, 3.7]  # 0.1 to 0.9 s apart
        rows = frames(times[:2] + times[6:], 0.1) + frames(times[2:6], 0.8)  # above from 1.0 s until 2.6 s
        assert len(evaluate_rules([rule(1.0)], rows)) == 1
        assert len(evaluate_rules([rule(1.6)], rows)) == 1
        assert evaluate_rules([rule(1.6 + 2 * TOLERANCE_S)], rows) == []

    def test_a_gap_longer_than_the_maximum_ends_a_stretch(self):
        before, after = [0.0, 0.5, 1.0], [1.0 + MAX_GAP_S + 0.1, 3.1 + MAX_GAP_S]
        (event,) = evaluate_rules([rule(1.0)], frames(before + after, 0.9))
        assert event.end_s == pytest.approx(1.5)  # the last frame before the gap lasts a typical 0.5 s
        assert evaluate_rules([rule(1.6)], frames(before + after, 0.9)) == []

    def test_a_short_time_without_a_face_is_bridged_but_not_counted(self):
        rows = frames([0.0, 0.3, 0.6], 0.9) + no_face([0.9, 1.2]) + frames([1.5, 1.8], 0.9) + no_face([2.1])
        (event,) = evaluate_rules([rule(1.5)], rows)  # 0.9 s + 0.6 s seen, 0.6 s without a face
        assert (event.start_s, event.end_s) == (0.0, pytest.approx(2.1)) and "1.5 s" in event.detail
        assert evaluate_rules([rule(1.6)], rows) == []

    def test_a_long_time_without_a_face_ends_a_stretch(self):
        empty = [round(0.9 + 0.1 * i, 3) for i in range(16)]  # 1.6 s
        rows = frames([0.0, 0.3, 0.6], 0.9) + no_face(empty) + frames([2.5, 2.8, 3.1], 0.9)
        assert evaluate_rules([rule(1.5)], rows) == []

    def test_frames_without_a_face_alone_raise_nothing(self):
        assert evaluate_rules([rule(0.0)], no_face([0.0, 0.1, 0.2])) == []


class TestSegments:
    def segment(self, start, end, share):
        return {"modality": "speech", "start_s": start, "end_s": end, "label": "angry", "p_angry": share}

    def test_pauses_are_bridged_and_not_counted(self):
        rows = [self.segment(0.0, 1.2, 0.9), self.segment(1.5, 2.5, 0.8), self.segment(4.5, 6.0, 0.9)]
        first, second = evaluate_rules([rule(1.5)], rows)
        assert (first.start_s, first.end_s) == (0.0, 2.5) and "2.2 s" in first.detail
        assert (second.start_s, second.end_s) == (4.5, 6.0)

    def test_the_highest_share_counts_where_modalities_overlap(self):
        speech = [self.segment(0.0, 2.0, 0.2)]
        assert evaluate_rules([rule(1.0)], speech + timeline([0.9] * 15)) != []
        assert evaluate_rules([rule(1.0)], speech + timeline([0.9] * 5)) == []


def test_a_zero_second_rule_fires_on_a_photo():
    photo = [{"modality": "face", "start_s": None, "end_s": None, "label": "angry", "p_angry": 0.9}]
    (event,) = evaluate_rules([rule(0.0)], photo)
    assert (event.start_s, event.end_s) == (0.0, 0.0)


class TestMultimodal:
    rule = Rule("negative in two modalities", "multimodal", threshold=0.5, min_seconds=5.0)

    def test_fires_when_two_modalities_agree_in_a_window(self):
        rows = timeline([0.8] * 30, modality="face") + timeline([0.9], modality="speech", step=1.0)
        (event,) = evaluate_rules([self.rule], rows)
        assert (event.start_s, event.end_s) == (0.0, 5.0) and "face and speech" in event.detail

    def test_one_modality_is_not_enough(self):
        rows = timeline([0.8] * 30, modality="face") + timeline([0.1], modality="speech", step=1.0)
        assert evaluate_rules([self.rule], rows) == []


@pytest.mark.parametrize("fields, message", [
    ({"kind": "sometimes"}, "kind must be one of sustained, multimodal"),
    ({"name": "  "}, "name must have 1 to 120 characters"),
    ({"labels": ()}, "at least one label"),
    ({"labels": ("happy", "grumpy")}, "unknown labels grumpy"),
    ({"threshold": 0.0}, "threshold must be above 0 and at most 1"),
    ({"threshold": 1.5}, "threshold must be above 0 and at most 1"),
    ({"min_seconds": -1.0}, "duration must be 0 s or more"),
])
def test_an_invalid_rule_fails_its_check(fields, message):
    with pytest.raises(InvalidInputError, match=message):
        Rule(**{"name": "r", "kind": "sustained", **fields}).check()


def test_the_defaults_pass_and_an_unknown_kind_is_not_run():
    Rule("upset", "sustained").check()
    with pytest.raises(ValueError, match="rule kind"):
        evaluate_rules([Rule("x", "sometimes")], timeline([0.9]))
