import pytest

from emotion_core.errors import InvalidInputError
from emotion_core.labels import DATASET_LABELS, EMOJI, EMOTIONS, UnknownLabelError, label_index, to_canonical


class TestCanonicalLabels:
    def test_order_and_emoji(self):
        assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
        assert set(EMOJI) == set(EMOTIONS)
        assert label_index("neutral") == 6

    @pytest.mark.parametrize("raw, canonical", [
        ("anger", "angry"), ("Angry", "angry"), ("happiness", "happy"), ("sadness", "sad"), ("fearful", "fear"),
        ("scared", "fear"), ("surprised", "surprise"), ("disgusted", "disgust"), (" neutral ", "neutral"),
    ])
    def test_synonyms(self, raw, canonical):
        assert to_canonical(raw) == canonical

    def test_text_data_sets(self):
        assert to_canonical("love", dataset="dair_emotion") == "happy"
        assert to_canonical("joy", dataset="goemotions_ekman") == "happy"
        assert to_canonical("nervousness", dataset="goemotions") == "fear"
        assert to_canonical("curiosity", dataset="goemotions") == "surprise"
        assert len(DATASET_LABELS["goemotions"]) == 28  # 27 emotions and neutral, each placed exactly once

    def test_speech_corpora(self):
        from emotion_core.labels import EMODB_EMOTION_CODES, RAVDESS_EMOTION_CODES

        ravdess = {code: to_canonical(name, dataset="ravdess") for code, name in RAVDESS_EMOTION_CODES.items()}
        assert ravdess == {"01": "neutral", "02": "neutral", "03": "happy", "04": "sad", "05": "angry", "06": "fear",
                           "07": "disgust", "08": "surprise"}
        assert to_canonical(EMODB_EMOTION_CODES["W"], dataset="emodb") == "angry"
        with pytest.raises(UnknownLabelError, match="boredom"):
            to_canonical(EMODB_EMOTION_CODES["L"], dataset="emodb")

    def test_fer2013_table_is_identity(self):
        assert all(to_canonical(label, dataset="fer2013") == label for label in EMOTIONS)
        assert "fer2013" in DATASET_LABELS


class TestUnknownLabels:
    def test_contempt_is_reported_not_merged(self):
        with pytest.raises(UnknownLabelError, match="contempt") as info:
            to_canonical("contempt")
        assert info.value.label == "contempt"
        assert isinstance(info.value, InvalidInputError)

    def test_synonym_outside_the_data_set_table_is_unknown(self):
        with pytest.raises(UnknownLabelError, match="fer2013"):
            to_canonical("happiness", dataset="fer2013")

    def test_unknown_dataset(self):
        with pytest.raises(InvalidInputError, match="dataset"):
            to_canonical("happy", dataset="no-such-set")
