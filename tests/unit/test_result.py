import json

import pytest

from emotion_core.labels import EMOTIONS
from emotion_core.result import SCORE_COLUMNS, EmotionResult, score_columns, scores_from_row


def make(**overrides) -> EmotionResult:
    fields = {"modality": "face", "scores": {"happy": 0.7, "sad": 0.1, "angry": 0.05, "disgust": 0.05, "fear": 0.04,
                                             "surprise": 0.03, "neutral": 0.03}, "model_id": "m1"}
    return EmotionResult(**{**fields, **overrides})


class TestValidation:
    def test_label_and_confidence_are_derived(self):
        result = make()
        assert result.label == "happy"
        assert result.confidence == pytest.approx(0.7)
        assert list(result.scores) == list(EMOTIONS)

    @pytest.mark.parametrize("bad, message", [
        ({"modality": "smell"}, "modality"),
        ({"scores": {"happy": 1.0}}, "exactly the labels"),
        ({"scores": dict.fromkeys(EMOTIONS, 0.5)}, "sum to 1"),
    ])
    def test_rejects_inconsistent_results(self, bad, message):
        with pytest.raises(ValueError, match=message):
            make(**bad)

    def test_from_probabilities_needs_seven(self):
        with pytest.raises(ValueError, match="7 probabilities"):
            EmotionResult.from_probabilities([0.5, 0.5], modality="text", model_id="m")


class TestSerialisation:
    def test_dict_round_trip_through_json(self):
        result = make(box=(1, 2, 30, 40), landmarks={"right_eye": (5.0, 6.0)}, detector_score=0.9, span=(0.5, 1.5),
                      latency_ms=3.21)
        data = json.loads(json.dumps(result.to_dict()))
        assert data["label"] == "happy" and data["box"] == [1, 2, 30, 40] and data["span"] == [0.5, 1.5]
        back = EmotionResult.from_dict(data)
        assert back.label == result.label and back.box == result.box and back.span == result.span
        assert back.scores == pytest.approx(result.scores, abs=1e-6)

    def test_uncertain_names_its_reason_and_survives_the_round_trip(self):
        assert make().to_dict()["uncertain"] is False and "uncertain_reason" not in make().to_dict()
        doubtful = make(uncertain="confidence 0.31, below 0.45")
        data = json.loads(json.dumps(doubtful.to_dict()))
        assert data["uncertain"] is True and data["uncertain_reason"] == "confidence 0.31, below 0.45"
        assert EmotionResult.from_dict(data).uncertain == doubtful.uncertain
        assert doubtful.to_row()["uncertain"] is True
        with pytest.raises(ValueError, match="reason"):
            make(uncertain=" ")

    def test_row_is_flat(self):
        row = make(box=(1, 2, 30, 40), span=(0.0, 2.0)).to_row()
        assert row["p_happy"] == pytest.approx(0.7)
        assert (row["box_x"], row["box_h"], row["start_s"], row["end_s"]) == (1, 40, 0.0, 2.0)
        assert all(not isinstance(v, (dict, list, tuple)) for v in row.values())

    def test_rows_make_a_dataframe(self):
        import pandas as pd

        frame = pd.DataFrame([make().to_row(), make(modality="text").to_row()])
        assert list(frame["modality"]) == ["face", "text"]


def test_score_columns_are_the_rows_probabilities_and_read_back():
    result = EmotionResult.from_probabilities([0.05, 0.05, 0.1, 0.5, 0.1, 0.1, 0.1], modality="face", model_id="m")
    row = result.to_row()
    assert [row[column] for column in SCORE_COLUMNS] == [result.scores[label] for label in EMOTIONS]
    assert scores_from_row(row) == result.scores
    assert score_columns({"happy": 0.9}) == {column: (0.9 if column == "p_happy" else None) for column in SCORE_COLUMNS}


def test_from_row_reads_back_what_to_row_wrote_and_pandas_gaps():
    full = EmotionResult.from_probabilities([0.05, 0.05, 0.1, 0.5, 0.1, 0.1, 0.1], modality="face", model_id="m",
                                            latency_ms=2.5, box=(3, 4, 50, 60), detector_score=0.9, span=(1.0, 1.5),
                                            frame=12, track_id=2, uncertain="tiny face")
    assert EmotionResult.from_row(full.to_row()) == full
    assert EmotionResult.from_dict(full.to_dict()) == full
    bare = EmotionResult.from_probabilities([0.05, 0.05, 0.1, 0.5, 0.1, 0.1, 0.1], modality="text", model_id="t")
    row = {**bare.to_row(), "box_x": float("nan"), "start_s": float("nan"), "uncertain_reason": float("nan")}
    assert EmotionResult.from_row(row) == bare
