from types import SimpleNamespace

import numpy as np
import pytest

from emotion_core.errors import InvalidInputError
from emotion_core.labels import EMOTIONS
from emotion_core.media import check_text
from emotion_core.result import EmotionResult
from emotion_core.text import analysis as text_analysis
from emotion_core.text.analysis import analyze_text, english_warning
from emotion_core.text.predictor import (
    Subwords,
    TextCalibration,
    TextPredictor,
    Vocabulary,
    leading_tokens,
    split_sentences,
    tokenize,
)
from emotion_core.text.sentiment import MAX_TEXT_WORDS, MAX_WORDS, _analyzer, mean_sentiment, sentiment, vader_words


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


class TestSubwords:
    @pytest.fixture
    def subwords(self):
        from emotion_core.training.text.train import minilm_tokenizer_file

        return Subwords.load(minilm_tokenizer_file(), max_length=12)

    def test_a_batch_is_padded_to_its_longest_text(self, subwords):
        feed = subwords.feed(["Hello!", "I can't believe how good this is"])
        assert set(feed) == {"input_ids", "attention_mask"} and feed["input_ids"].dtype == np.int64
        assert feed["input_ids"].shape == feed["attention_mask"].shape == (2, 11)
        assert feed["attention_mask"].sum(axis=1).tolist() == [4, 11]  # [CLS] hello ! [SEP]; the other is whole
        assert (feed["input_ids"][0, 4:] == 0).all()

    def test_a_long_text_is_cut_at_the_last_piece_that_fits(self, subwords):
        text = "one two three four five six seven eight nine ten eleven twelve thirteen"
        assert subwords.read_part(text) == "one two three four five six seven eight nine ten"  # 10 + [CLS], [SEP]
        assert subwords.read_part("short and sweet") == "short and sweet"
        assert subwords.feed([text])["input_ids"].shape == (1, 12)

    def test_an_unreadable_tokenizer_file_is_a_clear_error(self, tmp_path):
        from emotion_core.errors import ModelUnavailableError

        (tmp_path / "t.json").write_text("{not json", encoding="utf-8")
        with pytest.raises(ModelUnavailableError, match="cannot be read"):
            Subwords.load(tmp_path / "t.json", max_length=8)


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
        # Without a word the next token moves into the window: "four", never "five" or later (the predictor runs
        # texts shortest first, so the variants come in another order).
        assert sorted(variants) == [["one", "three", ",", "four"], ["one", "two", ",", "four"],
                                    ["two", "three", ",", "four"]]
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


class TestCalibrationAndUncertainty:
    def test_identity_by_default_and_read_from_the_card(self):
        probs = np.array([[0.1, 0.05, 0.05, 0.5, 0.1, 0.1, 0.1]])
        assert np.allclose(TextCalibration().apply(probs), probs)
        card = {"calibration": {"temperature": 2.0, "neutral_offset": 1.0, "uncertain_below": 0.3, "command": "x"}}
        calibration = TextCalibration.from_card(card)
        assert calibration == TextCalibration(temperature=2.0, neutral_offset=1.0, uncertain_below=0.3)
        assert TextCalibration.from_card({}) == TextCalibration()
        priors = TextCalibration.from_card({"calibration": {"neutral_offset": 0.5, "emotion_offsets": {"fear": "0.3"}}})
        assert priors.offsets().tolist() == [0, 0, 0.3, 0, 0, 0, 0.5]
        with pytest.raises(InvalidInputError, match="emotion_offsets"):
            TextCalibration(emotion_offsets={"neutral": 1.0})

    def test_an_emotion_offset_moves_that_emotion(self):
        probs = np.array([[0.02, 0.02, 0.3, 0.5, 0.02, 0.02, 0.12]])
        assert TextCalibration().apply(probs)[0].argmax() == EMOTIONS.index("happy")
        shifted = TextCalibration(emotion_offsets={"fear": np.log(2)}).apply(probs)
        assert shifted[0].argmax() == EMOTIONS.index("fear") and np.isclose(shifted[0, 2] / shifted[0, 3], 1.2)

    def test_temperature_softens_and_the_offset_moves_neutral(self):
        probs = np.array([[0.02, 0.02, 0.02, 0.8, 0.02, 0.02, 0.1]])
        soft = TextCalibration(temperature=2.0).apply(probs)
        assert soft[0].argmax() == 3 and soft[0, 3] < 0.8 and np.isclose(soft.sum(), 1)
        shifted = TextCalibration(neutral_offset=np.log(10)).apply(probs)
        assert shifted[0].argmax() == EMOTIONS.index("neutral")
        assert np.isclose(shifted[0, 6] / shifted[0, 3], 10 * 0.1 / 0.8)

    def test_reasons(self):
        vocabulary = Vocabulary(WORDS, max_length=4)
        calibration = TextCalibration(uncertain_below=0.4)
        assert calibration.uncertain("12 345 !", 0.9, vocabulary).startswith("no letters")
        assert "2 of 3 words are unknown" in calibration.uncertain("one zorb blat", 0.9, vocabulary)
        assert calibration.uncertain("one two zorb 99", 0.9, vocabulary) is None  # half unknown: not most
        assert calibration.uncertain("one two", 0.39, vocabulary) == "low confidence (39%, below 40%)"
        assert calibration.uncertain("one two", 0.41, vocabulary) is None

    def test_the_predictor_applies_them(self, recording_predictor):
        recording_predictor.calibration = TextCalibration(uncertain_below=0.99)
        one, unknown = recording_predictor.predict(["one two", "zorb blat"])
        assert one.uncertain.startswith("low confidence") and "unknown" in unknown.uncertain
        assert one.to_dict()["uncertain"] is True and "uncertain_reason" in one.to_dict()
        recording_predictor.calibration = TextCalibration()
        assert recording_predictor.predict(["one two"])[0].uncertain is None

    def test_a_text_is_uncertain_when_most_of_it_is(self, recording_predictor):
        text = "One two three four five six. Zorb blat."
        analysis = analyze_text(text, recording_predictor)
        assert [r.uncertain is not None for _, r, _ in analysis.sentences] == [False, True]
        assert analysis.overall.uncertain is None and analysis.words  # attributions still there
        analysis = analyze_text("One. Zorb blat quux snerk.", recording_predictor)
        assert analysis.overall.uncertain.startswith("1 of 2 sentences uncertain, e.g. ")
        assert analysis.to_dict()["overall"]["uncertain"] is True
        assert list(analysis.sentence_table()["uncertain"].astype(bool)) == [False, True]
        table = text_analysis.analyze_texts(["one two", "zorb"], recording_predictor)
        assert list(table["uncertain_reason"].astype(bool)) == [False, True]

    def test_sure_sentences_that_disagree_make_an_uncertain_mixed_text(self):
        def said(label: str) -> EmotionResult:
            probs = np.full(len(EMOTIONS), 0.1 / 6)
            probs[EMOTIONS.index(label)] = 0.9
            return EmotionResult.from_probabilities(probs, modality="text", model_id="fake")

        results, lengths = [said("angry"), said("happy"), said("happy")], np.array([30.0, 20.0, 25.0])
        reason = text_analysis.overall_uncertainty(results, lengths, confidence=0.38, uncertain_below=0.42)
        assert reason == "mixed: its sentences read happy, angry (confidence 38%, below 42%)"
        assert text_analysis.overall_uncertainty(results, lengths, confidence=0.5, uncertain_below=0.42) is None


def test_choose_calibration_on_validation_figures():
    from emotion_core.training.text.calibration import choose_calibration

    rng = np.random.default_rng(0)
    sets = {}
    for name in ("a", "b"):  # a model that under-calls neutral: the offset must go up
        truth = rng.integers(0, len(EMOTIONS), 700)
        probs = np.full((700, len(EMOTIONS)), 0.05)
        probs[np.arange(700), truth] += 0.5
        neutral = truth == EMOTIONS.index("neutral")
        probs[neutral, 3] += 0.6
        sets[name] = (probs / probs.sum(1, keepdims=True), [EMOTIONS[t] for t in truth])
    chosen = choose_calibration(sets)
    assert chosen.neutral_offset > 0
    assert chosen.emotion_offsets.get("happy", 0) <= 0  # the class neutral texts were taken for is not favoured
    assert 0.5 <= chosen.temperature <= 3.0 and 0 <= chosen.uncertain_below <= 0.8


def test_class_priors_raise_an_under_called_emotion():
    from emotion_core.training.text.calibration import choose_calibration

    rng = np.random.default_rng(1)
    truth = rng.integers(0, len(EMOTIONS), 1400)
    probs = np.full((1400, len(EMOTIONS)), 0.05)
    probs[np.arange(1400), truth] += 0.5
    fear = truth == EMOTIONS.index("fear")
    probs[fear, EMOTIONS.index("sad")] += 0.6  # fear texts read as sad, a little less sure than sad texts
    probs[fear, EMOTIONS.index("fear")] -= 0.1
    chosen = choose_calibration({"a": (probs / probs.sum(1, keepdims=True), [EMOTIONS[t] for t in truth])})
    assert chosen.emotion_offsets["fear"] > 0
    predicted = chosen.apply(probs).argmax(1)
    assert (predicted[fear] == EMOTIONS.index("fear")).mean() > 0.9


def test_an_uncertain_transcript_cue_weighs_less_in_fusion(recording_predictor):
    from emotion_core.fusion.windows import fuse_timeline, timeline_from

    sure, unsure = recording_predictor.predict(["one two", "zorb blat quux"])
    timeline = timeline_from(text=[(0.0, 1.0, sure), (1.0, 2.0, unsure)])
    assert [r.uncertain is not None for r in timeline] == [False, True]
    windows = fuse_timeline(timeline, duration_s=2.0, weights={"text": 1.0})
    assert [w.uncertain_share["text"] for w in windows] == [0.0, 1.0]
