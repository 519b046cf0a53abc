from types import SimpleNamespace

import numpy as np
import pytest

from emotion_core import text_analysis
from emotion_core.errors import InvalidInputError
from emotion_core.labels import EMOTIONS
from emotion_core.media import check_text
from emotion_core.sentiment import MAX_TEXT_WORDS, MAX_WORDS, _analyzer, mean_sentiment, sentiment, vader_words
from emotion_core.text import TextPredictor, Vocabulary, leading_tokens, split_sentences, tokenize
from emotion_core.text_analysis import analyze_text, english_warning


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


class _RecordingModel:
    """Stands in for the ONNX session: probabilities that depend on the word ids, and every id row it was given."""

    def __init__(self):
        self.rows: list[list[int]] = []

    def get_inputs(self):
        return [SimpleNamespace(name="word_ids")]

    def run(self, _, feeds):
        ids = feeds["word_ids"]
        self.rows += ids.tolist()
        return [np.eye(len(EMOTIONS))[(ids * np.arange(1, ids.shape[1] + 1)).sum(1) % len(EMOTIONS)] + 0.5]


WORDS = "one two three four five six seven eight nine ten".split()


@pytest.fixture
def recording_predictor():
    return TextPredictor(session=_RecordingModel(), vocabulary=Vocabulary(WORDS, max_length=4), model_id="fake")


def test_leading_tokens():
    assert leading_tokens("I can't believe it!! Really.", 3) == "I can't believe"
    assert leading_tokens("I can't believe it!! Really.", 5) == "I can't believe it!"
    assert leading_tokens("  Two words  ", 3) == "  Two words  "


class TestWordWeights:
    def test_words_beyond_the_window_get_no_variant(self, recording_predictor):
        analysis = analyze_text("One two three, four five six seven.", recording_predictor)
        assert [w.word for w in analysis.words] == ["One", "two", "three"]  # the 4th token is the comma
        variants = [[WORDS[i - 2] if i > 1 else "," for i in row if i] for row in recording_predictor.session.rows[1:]]
        # Without a word the next token moves into the window: "four", never "five" or later.
        assert variants == [["two", "three", ",", "four"], ["one", "three", ",", "four"], ["one", "two", ",", "four"]]
        assert analysis.explained_sentences == 1 and analysis.to_dict()["explained_sentences"] == 1

    def test_the_cap_on_variants_is_respected_and_reported(self, recording_predictor, monkeypatch):
        monkeypatch.setattr(text_analysis, "MAX_OCCLUSIONS", 7)
        text = "One two three. Four five. Six seven eight. Nine ten."
        analysis = analyze_text(text, recording_predictor)
        assert len(recording_predictor.session.rows) == 4 + 5  # the sentences, then the variants of the first two
        assert analysis.explained_sentences == 2
        assert [w.word for w in analysis.words] == ["One", "two", "three", "Four", "five"]
        assert analysis.to_dict()["explained_sentences"] == 2 and len(analysis.to_dict()["sentences"]) == 4

    def test_no_explanation(self, recording_predictor):
        analysis = analyze_text("One two three. Four five.", recording_predictor, explain=False)
        assert analysis.words == [] and analysis.explained_sentences == 0
        assert len(recording_predictor.session.rows) == 2

    def test_overall_sentiment_of_a_long_text_is_its_sentences_by_length(self, recording_predictor):
        short = "I love it. But the ending made me cry."
        assert analyze_text(short, recording_predictor).sentiment == sentiment(short)
        long = "I love it so much. " * 10 + "But the ending made me cry and I hated every minute of it."
        analysis = analyze_text(long, recording_predictor)
        moods = [mood for *_, mood in analysis.sentences]
        assert analysis.sentiment == mean_sentiment(moods, [len(s.text) for s, *_ in analysis.sentences])
        assert analysis.sentiment["compound"] == pytest.approx((180 * moods[0]["compound"] + 58 * moods[-1][
            "compound"]) / 238, abs=1e-4)

    def test_too_many_sentences_is_invalid_input(self, recording_predictor):
        with pytest.raises(InvalidInputError, match="2,001 sentences"):
            analyze_text("One. " * 2_001, recording_predictor)


class TestLongSentiment:
    def test_a_short_text_is_scored_by_vader_as_it_is(self):
        text = "I love it, " * 10 + "but the ending made me cry!"
        assert len(text.split()) <= MAX_WORDS
        scores = _analyzer().polarity_scores(text)
        assert sentiment(text)["compound"] == scores["compound"] and sentiment(text)["positive"] == scores["pos"]

    def test_emoji_count_as_their_description_and_a_flood_is_refused(self, recording_predictor):
        assert vader_words("so happy 😹") == ["so", "happy", "cat", "face", "with", "tears", "of", "joy"]
        flood = "I " + "😹" * (MAX_TEXT_WORDS // 6 + 1)
        with pytest.raises(InvalidInputError, match="50,005 words as the sentiment model reads them"):
            analyze_text(flood, recording_predictor)
        assert recording_predictor.session.rows == []  # refused before any work

    def test_a_long_text_is_scored_in_pieces(self, monkeypatch):
        calls = []
        vader = _analyzer().polarity_scores
        monkeypatch.setattr(_analyzer(), "polarity_scores", lambda text: calls.append(text) or vader(text))
        text = "I love it. " * MAX_WORDS + "😀" * MAX_WORDS  # an emoji counts as its description's words
        mood = sentiment(text)
        assert all(len(call.split()) <= MAX_WORDS for call in calls)
        assert " ".join(calls).count("love") == MAX_WORDS and " ".join(calls).count("grinning face") == MAX_WORDS
        assert mood["polarity"] == "positive" and 0 < mood["compound"] <= 1
