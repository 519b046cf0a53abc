"""The shipped text model, the text analysis, the CLI and the Text tab, on texts the tests write."""

import json

import pytest

from emotion_core.cli import main
from emotion_core.errors import InvalidInputError
from emotion_core.text.analysis import analyze_text, analyze_texts
from emotion_core.text.predictor import WORD, TextPredictor
from tests.conftest import MODELS


@pytest.fixture(scope="module")
def text_predictor():
    return TextPredictor.from_dir(MODELS)


UNAMBIGUOUS = {
    "I am so happy and grateful today, this is wonderful!": "happy",
    "I feel so sad and lonely, I cried all night.": "sad",
    "I am furious, this makes me so angry I could scream.": "angry",
    "I am terrified and scared of what will happen tomorrow.": "fear",
    "Wow, I did not expect that at all, what a surprise!": "surprise",
    "That is disgusting, gross, it makes me sick.": "disgust",
    "The meeting is moved to room 4 on Tuesday.": "neutral",
}


def test_unambiguous_sentences(text_predictor):
    results = text_predictor.predict(list(UNAMBIGUOUS))
    predicted = [r.label for r in results]
    assert sum(p == e for p, e in zip(predicted, UNAMBIGUOUS.values())) >= 6, predicted
    assert all(abs(sum(r.scores.values()) - 1) < 1e-4 and r.modality == "text" for r in results)


def test_predictor_is_deterministic_and_refuses_a_bare_string(text_predictor):
    a, b = text_predictor.predict(["What a day"]), text_predictor.predict(["What a day"])
    assert a[0].scores == b[0].scores
    with pytest.raises(InvalidInputError, match="list of strings"):
        text_predictor.predict("What a day")


def test_analysis_sentences_sentiment_and_words(text_predictor):
    analysis = analyze_text("I love my new job, everyone is kind! But the commute makes me furious.",
                            text_predictor)
    assert len(analysis.sentences) == 2
    assert analysis.sentiment["polarity"] in ("positive", "negative", "neutral")
    assert analysis.words and all(analysis.text[w.start:w.end] == w.word for w in analysis.words)
    data = json.loads(json.dumps(analysis.to_dict()))
    assert data["modality"] == "text" and len(data["sentences"]) == 2


def _whole_sentence_occlusion(sentence: str, predictor) -> dict[tuple[str, int], float]:
    """Word weights as first defined: every word removed from the whole sentence, all classified."""
    words = list(WORD.finditer(sentence))
    probs = predictor.probabilities([sentence, *(sentence[:m.start()] + sentence[m.end():] for m in words)])
    column = int(probs[0].argmax())
    return {(m.group(), m.start()): float(probs[0, column] - p) for m, p in zip(words, probs[1:, column])}


@pytest.mark.parametrize("sentence", [
    "I love my new job, everyone is so kind to me!",
    " ".join(["I was furious when the train was late again, and then it rained all the way home"] * 4),
])
def test_word_weights_are_those_of_occluding_the_whole_sentence(text_predictor, sentence):
    analysis = analyze_text(sentence, text_predictor)
    expected = _whole_sentence_occlusion(sentence, text_predictor)
    weights = {(w.word, w.start): w.weight for w in analysis.words}
    assert set(weights) <= set(expected)
    for key, weight in expected.items():  # words beyond the model's window changed nothing: no weight
        assert weights.get(key, 0.0) == pytest.approx(weight, abs=1e-5), key
    read = len(WORD.findall(text_predictor.encoder.read_part(sentence)))
    assert len(weights) == read and analysis.explained_sentences == 1


def test_uncertain_texts_and_their_reasons(text_predictor):
    clear, digits, foreign = text_predictor.predict(["I am so happy and grateful today, this is wonderful!",
                                                     "10:30 - 11:45, 2024", "Das Wetter ist heute wirklich schön"])
    assert clear.uncertain is None
    assert digits.uncertain.startswith("no letters")
    assert "unknown to the text model" in foreign.uncertain
    assert text_predictor.calibration.uncertain_below > 0  # the shipped card's calibration is applied
    analysis = analyze_text("Das Wetter ist heute wirklich schön.", text_predictor)
    assert analysis.overall.uncertain and analysis.words  # still explained
    assert analysis.to_dict()["overall"]["uncertain"] is True


def test_batch_marks_rows_it_cannot_read(text_predictor):
    table = analyze_texts(["great news!", "", "🙂🙂", "this is awful"], text_predictor)
    assert list(table["label"].isin(["(skipped)"])) == [False, True, True, False]
    assert "nothing to analyse" in table.loc[1, "reason"]


class TestCli:
    def test_text_json(self, capsys):
        assert main(["analyze", "--text", "I am so happy and grateful today!", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["overall"]["label"] == "happy" and data["sentiment"]["polarity"] == "positive"

    def test_csv_column_and_missing_column(self, capsys, tmp_path):
        table = tmp_path / "posts.csv"
        table.write_text("id,body\n1,I am so happy today\n2,\n", encoding="utf-8")
        assert main(["analyze", str(table), "--column", "body"]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert lines[0].startswith("id,body,label,confidence") and "(skipped)" in lines[2]
        assert main(["analyze", str(table)]) == 2
        assert "no column 'text'" in capsys.readouterr().err

    def test_bad_text_inputs(self, capsys, tmp_path):
        assert main(["analyze", "--text", "   "]) == 2
        latin1 = tmp_path / "note.txt"
        latin1.write_bytes("caf\xe9".encode("latin-1"))
        assert main(["analyze", str(latin1)]) == 2
        assert "not UTF-8" in capsys.readouterr().err

    def test_evaluate_on_a_tiny_table(self, capsys, tmp_path):
        table = tmp_path / "labelled.csv"
        table.write_text("text,label\nI am so happy and grateful,joy\nI am so sad and lonely,sadness\n"
                         "whatever,contempt\n,anger\n", encoding="utf-8")
        out = tmp_path / "report.json"
        assert main(["evaluate", "text", "--data", str(table), "--json", str(out)]) == 0
        report = json.loads(out.read_text())
        assert report["n"] == 2
        assert [s["path"] for s in report["skipped"]] == ["row 3", "row 4"]
        assert set(report) >= {"accuracy", "macro_f1", "uar", "per_class", "confusion", "ms_per_item"}


@pytest.mark.data
def test_dair_test_split_through_the_evaluation_command(capsys, tmp_path):
    from tests.conftest import SHARED_DATA

    out = tmp_path / "dair.json"
    assert main(["evaluate", "text", "--corpus", "dair", "--data", str(SHARED_DATA / "text"), "--json",
                 str(out)]) == 0
    assert json.loads(out.read_text())["n"] == 2000
