import numpy as np
import pytest

from emotion_core.errors import InvalidInputError
from emotion_core.media import check_text
from emotion_core.sentiment import sentiment
from emotion_core.text import Vocabulary, split_sentences, tokenize
from emotion_core.text_analysis import english_warning


class TestTokens:
    def test_words_contractions_punctuation_and_emoji(self):
        assert tokenize("I can't BELIEVE it!! 😀 café") == ["i", "can't", "believe", "it", "!", "!", "😀", "café"]

    def test_vocabulary_pads_truncates_and_marks_unknown_words(self):
        vocabulary = Vocabulary(["i", "love", "it"], max_length=4)
        ids = vocabulary.encode(["I love it", "I hate it so much"])
        assert ids.tolist() == [[2, 3, 4, 0], [2, 1, 4, 1]]
        assert ids.dtype == np.int64

    def test_vocabulary_round_trip(self, tmp_path):
        Vocabulary(["a", "b"], max_length=7).save(tmp_path / "v.json")
        loaded = Vocabulary.load(tmp_path / "v.json")
        assert loaded.words == ["a", "b"] and loaded.max_length == 7


class TestSentences:
    def test_spans_point_into_the_text(self):
        text = "Hello there.  I am so happy!\nNew line without a stop"
        sentences = split_sentences(text)
        assert [s.text for s in sentences] == ["Hello there.", "I am so happy!", "New line without a stop"]
        assert all(text[s.start:s.end] == s.text for s in sentences)

    def test_no_break_inside_numbers_or_without_space(self):
        assert len(split_sentences("It costs 3.50 today.It is fine")) == 1


class TestCheckText:
    @pytest.mark.parametrize("raw, message", [
        ("", "nothing to analyse"), ("   \n\t ", "nothing to analyse"), ("😀😀 !!!", "no words to analyse"),
        (b"caf\xe9 au lait", "not UTF-8 text"), ("word " * 30_000, "more than the 100,000"),
    ])
    def test_bad_text(self, raw, message):
        with pytest.raises(InvalidInputError, match=message):
            check_text(raw)

    def test_bytes_with_a_byte_order_mark(self):
        assert check_text("hello".encode("utf-8-sig")) == "hello"


class TestLanguage:
    @pytest.mark.parametrize("text", ["Je suis très content de te voir aujourd'hui mon ami",
                                      "Ich bin heute sehr glücklich und froh darüber", "今日はとても嬉しいです"])
    def test_other_languages_get_a_warning(self, text):
        assert "English only" in english_warning(text)

    def test_english_does_not(self):
        assert english_warning("I am so glad that you came to see me today") is None
        assert english_warning("Great!") is None  # too short to judge


def test_vader_sentiment():
    assert sentiment("I love this, it is wonderful!")["polarity"] == "positive"
    assert sentiment("This is terrible and I hate it.")["polarity"] == "negative"
    assert sentiment("The meeting is at noon.")["polarity"] == "neutral"
    assert -1 <= sentiment("ok")["compound"] <= 1
