"""The corpus readers on tiny fake files laid out as the real corpora are."""

from dataclasses import replace

import numpy as np
import pytest

from emotion_core.errors import InvalidInputError
from emotion_core.labels import EMOTIONS
from emotion_core.text.corpora import CORPORA, check_split, find_corpus, load_corpora, load_corpus, split_of


@pytest.fixture
def data(tmp_path):
    """Two data folders, as the corpora sit here: dair-ai and GoEmotions in one, the rest in another."""
    shared, cache = tmp_path / "shared", tmp_path / "cache"
    (shared / "dair_emotion").mkdir(parents=True)
    for split in ("train", "val", "test"):
        (shared / "dair_emotion" / f"{split}.txt").write_text(
            "text;label;label_name\ni feel great;1;joy\ni adore you;2;love\nso angry;3;anger\n", encoding="utf-8")
    ekman = shared / "goemotions" / "ekman"
    ekman.mkdir(parents=True)
    (ekman / "labels.txt").write_text("anger\ndisgust\nfear\njoy\nneutral\nsadness\nsurprise\n", encoding="utf-8")
    for split in ("train", "dev", "test"):
        (ekman / f"{split}.tsv").write_text("ok then\t4\tc1\nyay\t3\tc2\nboth\t3,5\tc3\n", encoding="utf-8")
    meld = cache / "data" / "MELD"
    meld.mkdir(parents=True)
    for split in ("train", "dev", "test"):
        (meld / f"{split}_sent_emo.csv").write_text(
            "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID\n"
            '1,"Oh, no!",Ross,sadness,negative,0,0\n2,Hi.,Joey,neutral,neutral,0,1\n'
            "3,Ew.,Monica,disgust,negative,0,2\n",
            encoding="utf-8")
    rows = ["tweet_id,sentiment,author,content"]
    labels = ["hate", "fun", "love", "worry", "empty", "boredom", "relief", "neutral", "sadness", "surprise"]
    for i in range(200):
        rows.append(f'{i},{labels[i % len(labels)]},author{i // 2},"tweet, number {i}"')
    (cache / "text_emotion.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    annotated = cache / "AnnotatedData"
    annotated.mkdir()
    (annotated / "en-annotated.tsv").write_text(
        "".join(f"line {i} .\t{c}\n" for i, c in enumerate(["1", "2", "3", "4", "5", "6", "7", "8", "1, 3"] * 20)),
        encoding="utf-8")
    (annotated / "neu_en.txt").write_text("".join(f"9\tcalm line {i}\t\t\n" for i in range(60)) + "\t\t\t\n",
                                          encoding="utf-8")
    return [shared, cache]


def test_every_corpus_is_found_in_either_folder(data):
    assert find_corpus("dair", data) == data[0]
    assert find_corpus("meld", data) == data[1] / "data" / "MELD"
    assert find_corpus("xed", data) == data[1] / "AnnotatedData"
    with pytest.raises(InvalidInputError, match="text_emotion.csv not found"):
        find_corpus("crowdflower", data[:1])
    with pytest.raises(InvalidInputError, match="expected one of"):
        find_corpus("isear", data)


def test_label_mappings(data):
    dair = load_corpus("dair", "test", data)
    assert dair.labels == ["happy", "happy", "angry"] and dair.raw_labels == ["joy", "love", "anger"]
    goemotions = load_corpus("goemotions", "dev", data)  # dev is val
    assert goemotions.texts == ["ok then", "yay"] and goemotions.labels == ["neutral", "happy"]  # single labels only
    meld = load_corpus("meld", "val", data)
    assert meld.texts == ["Oh, no!", "Hi.", "Ew."] and meld.labels == ["sad", "neutral", "disgust"]


def test_crowdflower_keeps_what_maps_and_splits_by_author(data):
    sets = {split: load_corpus("crowdflower", split, data) for split in ("train", "val", "test")}
    assert sum(len(s.texts) for s in sets.values()) == 140  # 7 of 10 labels map
    dropped = sum(s.dropped.get(k, 0) for s in sets.values() for k in ("empty", "boredom", "relief"))
    assert dropped == 60
    mapping = {r: c for s in sets.values() for r, c in zip(s.raw_labels, s.labels)}
    assert mapping == {"hate": "angry", "fun": "happy", "love": "happy", "worry": "fear", "neutral": "neutral",
                       "sadness": "sad", "surprise": "surprise"}
    assert all(len(s.texts) for s in sets.values())
    authors = {split: {int(t.split()[-1]) // 2 for t in s.texts} for split, s in sets.items()}
    assert not authors["train"] & authors["test"] and not authors["train"] & authors["val"]


def test_xed_single_labels_that_map_and_its_neutral_file(data):
    total = load_corpora(["xed"], "train", data) + load_corpus("xed", "val", data) + load_corpus("xed", "test", data)
    assert len(total.texts) == 6 * 20 + 60  # anticipation, trust and the two-label rows are left out
    assert sorted(set(total.labels)) == ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
    assert sum(total.dropped.values()) == 40 and set(total.dropped) == {"anticipation", "trust"}
    assert sum(t.startswith("calm line") for t in total.texts) == 60 and not any("\t" in t for t in total.texts)


def test_hashed_splits_are_fixed_and_about_80_10_10():
    splits = [split_of(f"key {i}") for i in range(5000)]
    assert splits == [split_of(f"key {i}") for i in range(5000)]
    assert 0.77 < splits.count("train") / 5000 < 0.83 and 0.08 < splits.count("test") / 5000 < 0.12
    assert check_split("dev") == "val"
    with pytest.raises(InvalidInputError):
        check_split("holdout")


def test_the_corpora_are_the_five():
    assert CORPORA == ("dair", "goemotions", "meld", "crowdflower", "xed")


def test_leave_one_corpus_out_on_the_fakes(data, tmp_path):
    from emotion_core.training.text.train import leave_one_corpus_out

    result = leave_one_corpus_out(data, arm="tfidf_words", out_dir=tmp_path / "loco")
    assert set(result["folds"]) == set(CORPORA) and set(result["all_corpora"]) == set(CORPORA)
    assert result["folds"]["meld"]["trained_on"] == ["dair", "goemotions", "crowdflower", "xed"]
    assert result["folds"]["meld"]["n"] == 3
    assert result["mean_macro_f1"] == pytest.approx(
        sum(f["macro_f1"] for f in result["folds"].values()) / 5, abs=1e-4)
    assert set(result["folds"]["xed"]["neutral_share"]) == {"predicted", "true"}
    assert {"cpu", "isa"} <= set(result["machine"])  # training minutes depend on the CPU


def test_leave_one_corpus_out_teaches_each_fold_with_a_teacher_of_its_own(data, tmp_path):
    from emotion_core.training.text.train import CORPORA_LSTM, leave_one_corpus_out
    from emotion_core.training.text.transformer import TuneConfig

    tiny = replace(CORPORA_LSTM, max_words=50, max_length=8, embedding=4, units=2, epochs=1, batch_size=64)
    teacher = TuneConfig(layers=1, max_length=16)
    result = leave_one_corpus_out(data, arm="bilstm_distilled", lstm=tiny, out_dir=tmp_path / "loco",
                                  all_corpora=False, teacher=teacher)
    assert set(result["folds"]) == set(CORPORA) and result["teacher"]["layers"] == 1
    assert all(fold["teacher_minutes"] >= 0 for fold in result["folds"].values())
    others = [c for c in CORPORA if c != "meld"]
    soft = np.load(tmp_path / "loco" / "meld" / "teacher_train_probabilities.npy")
    assert soft.shape == (len(load_corpora(others, "train", data).texts), len(EMOTIONS))  # MELD never taught
    checkpoint = tmp_path / "loco" / "meld" / "teacher.pt"
    written = checkpoint.stat().st_mtime_ns
    again = leave_one_corpus_out(data, arm="bilstm_distilled", lstm=tiny, out_dir=tmp_path / "loco",
                                 all_corpora=False, teacher=teacher)
    assert checkpoint.stat().st_mtime_ns == written and set(again["folds"]) == set(CORPORA)


def test_evaluate_a_corpus_through_the_cli(data, tmp_path, capsys):
    import json

    from emotion_core.cli import main

    out = tmp_path / "meld.json"
    assert main(["evaluate", "text", "--corpus", "crowdflower", "--data", *map(str, data), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "weighted_f1=" in printed and "predicted neutral" in printed
    report = json.loads(out.read_text())
    assert report["neutral_share"]["true"] > 0 and "weighted_f1" in report
    assert any("'relief'" in s["reason"] for s in report["skipped"])
    assert main(["evaluate", "text", "--corpus", "xed", "--data", str(tmp_path / "nowhere")]) == 2
    assert "not found" in capsys.readouterr().err


def test_training_on_all_corpora_writes_a_calibrated_card(data, tmp_path):
    from emotion_core.text.predictor import TextPredictor
    from emotion_core.training.text.train import CORPORA_LSTM, train_on_corpora

    tiny = replace(CORPORA_LSTM, max_words=50, max_length=8, embedding=4, units=2, epochs=2, batch_size=64)
    card = train_on_corpora(data, out_dir=tmp_path / "run", command="test", lstm=tiny)
    assert card["training"]["selection"] == "best mean over the corpora of their val macro-F1 over the epochs"
    assert dict(card["training"]["config"]["corpus_shares"]) == {"goemotions": 2.0, "crowdflower": 0.5, "xed": 0.5}
    assert 0 <= card["validation"]["selection_score"] <= 1  # what fusion weighs the text modality by
    assert set(card["calibration"]["test"]) == set(CORPORA)
    assert set(card["metrics"]) == {f"{name}_test" for name in CORPORA}
    assert {"temperature", "neutral_offset", "uncertain_below"} <= set(card["calibration"])
    assert card["dataset"]["corpora"]["crowdflower"]["label_mapping"].endswith("Left out: empty, boredom, relief")
    predictor = TextPredictor.from_dir(tmp_path / "run")
    assert predictor.calibration.temperature == card["calibration"]["temperature"]
    assert len(predictor.predict(["tweet, number 3"])) == 1


def test_recalibrating_through_the_cli_refreshes_the_test_figures(data, tmp_path, capsys):
    import json

    from emotion_core.cli import main
    from emotion_core.training.text.train import CORPORA_LSTM, train_on_corpora

    tiny = replace(CORPORA_LSTM, max_words=50, max_length=8, embedding=4, units=2, epochs=1, batch_size=64)
    train_on_corpora(data, out_dir=tmp_path / "run", command="test", lstm=tiny)
    card_file = tmp_path / "run" / "text_emotion.card.json"
    card = json.loads(card_file.read_text())
    card["metrics"] = {"stale": {}}
    card_file.write_text(json.dumps(card))
    assert main(["calibrate", "text", "--model-dir", str(tmp_path / "run"), "--data", *map(str, data)]) == 0
    assert "calibration: " in capsys.readouterr().out
    card = json.loads(card_file.read_text())
    assert set(card["metrics"]) == {f"{name}_test" for name in CORPORA}
    assert set(card["calibration"]["emotion_offsets"]) == set(EMOTIONS) - {"neutral"}
    assert card["calibration"]["command"].startswith("python -m emotion_core calibrate text")


def test_distilling_on_all_corpora_writes_an_int8_model_and_card(data, tmp_path):
    from emotion_core.text.predictor import Subwords, TextPredictor
    from emotion_core.training.text.transformer import TuneConfig, distil_on_corpora

    out = tmp_path / "run"
    card = distil_on_corpora(data, out_dir=out, command="test", teacher=TuneConfig(layers=1, max_length=16),
                             student=TuneConfig(layers=1, max_length=16), compare_with={"older": {"xed_test": {}}})
    assert {"teacher.pt", "student.pt", "teacher_train_probabilities.npy", "text_emotion.onnx",
            "text_emotion.float.onnx", "text_emotion.tokenizer.json", "text_emotion.vocab.json"} <= {
                p.name for p in out.iterdir()}
    teacher, older = card["comparison"]["models"].values()
    assert set(card["metrics"]) == set(teacher) == {f"{n}_test" for n in CORPORA} and older == {"xed_test": {}}
    assert card["machine"]["cpu"] and isinstance(card["machine"]["isa"], list)
    assert 0 <= card["quantization"]["agreement"] <= 1 and card["training"]["student"]["minutes"] is not None
    predictor = TextPredictor.from_dir(out)
    assert isinstance(predictor.encoder, Subwords) and predictor.encoder.max_length == 16
    assert predictor.probabilities(["tweet, number 3", "so angry"]).shape == (2, 7)
    trained_at = (out / "student.pt").stat().st_mtime_ns
    again = distil_on_corpora(data, out_dir=out, command="test", teacher=TuneConfig(layers=1, max_length=16),
                              student=TuneConfig(layers=1, max_length=16))
    assert (out / "student.pt").stat().st_mtime_ns == trained_at  # the checkpoints were reused
    assert again["training"]["student"]["minutes"] == card["training"]["student"]["minutes"]


def _texts(sources: list[str], labels: list[str]):
    from emotion_core.text.corpora import TextSet

    return TextSet("fake", [f"text {i}" for i in range(len(labels))], labels, labels, sources)


def test_corpus_shares_scale_each_corpus_total_weight_and_keep_its_class_balance():
    from emotion_core.training.text.train import sample_weights

    data = _texts(["a"] * 5 + ["b"] * 3, ["happy"] * 4 + ["sad"] + ["angry"] * 3)
    even, shared = sample_weights(data), sample_weights(data, {"b": 2.0})
    for weights, ratio in ((even, 1.0), (shared, 2.0)):
        assert weights.mean() == pytest.approx(1.0)
        assert weights[5:].sum() / weights[:5].sum() == pytest.approx(ratio)
        assert weights[4] / weights[0] == pytest.approx(2.0)  # inverse square-root frequency: 1 sad, 4 happy


def test_mean_macro_f1_weighs_every_corpus_the_same():
    from emotion_core.labels import EMOTIONS
    from emotion_core.training.text.train import mean_macro_f1

    data = _texts(["big"] * 8 + ["small"] * 2, ["happy"] * 4 + ["sad"] * 4 + ["angry", "fear"])
    guesses = ["happy"] * 4 + ["sad"] * 4 + ["fear", "angry"]  # the big corpus right, the small one wrong
    probabilities = np.eye(len(EMOTIONS))[[EMOTIONS.index(g) for g in guesses]]
    assert mean_macro_f1(probabilities, data) == pytest.approx(0.5)


def test_a_pair_averages_the_shipped_model_and_one_trained_on_every_corpus_with_its_words(data, tmp_path):
    import onnxruntime as ort

    from emotion_core.text.predictor import TextPredictor, Vocabulary
    from emotion_core.training.text.train import CORPORA_LSTM, train_on_corpora, train_pair_on_corpora

    tiny = replace(CORPORA_LSTM, max_words=50, max_length=8, embedding=4, units=2, epochs=1, batch_size=64)
    shipped = tmp_path / "shipped"
    train_on_corpora(data, out_dir=shipped, command="test", lstm=tiny)
    card = train_pair_on_corpora(data, shipped_dir=shipped, out_dir=tmp_path / "pair", command="test",
                                 lstm=tiny)
    assert card["training"]["first_model"].startswith("text-bilstm-5-corpora")
    assert set(card["metrics"]) == {f"{name}_test" for name in CORPORA}
    words = Vocabulary.load(shipped / "text_emotion.vocab.json")
    assert Vocabulary.load(tmp_path / "pair" / "text_emotion.vocab.json").words == words.words
    ids = {"word_ids": words.encode(["i feel great", "so angry", "tweet, number 3"])}
    first, second, pair = (ort.InferenceSession(str(path)).run(None, ids)[0] for path in
                           (shipped / "text_emotion.onnx", tmp_path / "pair" / "second.onnx",
                            tmp_path / "pair" / "text_emotion.onnx"))
    np.testing.assert_allclose(pair, (first + second) / 2, atol=1e-6)
    assert len(TextPredictor.from_dir(tmp_path / "pair").predict(["so angry"])) == 1


def test_a_bilstm_learns_from_a_teachers_probabilities(data, tmp_path):
    from emotion_core.labels import EMOTIONS
    from emotion_core.training.text.train import CORPORA_LSTM, fit_bilstm

    train, validation = load_corpora(CORPORA, "train", data), load_corpora(CORPORA, "val", data)
    fear = np.tile(np.eye(len(EMOTIONS))[EMOTIONS.index("fear")], (len(train.texts), 1))
    taught_only = replace(CORPORA_LSTM, max_words=50, max_length=8, embedding=4, units=2, epochs=4,
                          learning_rate=0.05, soft_weight=1.0)
    model, vocabulary = fit_bilstm(train, validation, config=taught_only, out_dir=tmp_path, soft_targets=fear)
    predicted = model.predict(vocabulary.encode(train.texts), verbose=0).argmax(1)
    assert (predicted == EMOTIONS.index("fear")).mean() > 0.9  # the labels had no weight, the teacher all of it


def test_a_distilled_pair_keeps_the_first_member_of_a_shipped_pair(data, tmp_path):
    import onnxruntime as ort

    from emotion_core.text.predictor import Vocabulary
    from emotion_core.training.text.train import CORPORA_LSTM, train_on_corpora, train_pair_on_corpora
    from emotion_core.training.text.transformer import TuneConfig

    tiny = replace(CORPORA_LSTM, max_words=50, max_length=8, embedding=4, units=2, epochs=1, batch_size=64)
    first = train_on_corpora(data, out_dir=tmp_path / "first", command="test", lstm=tiny)
    train_pair_on_corpora(data, shipped_dir=tmp_path / "first", out_dir=tmp_path / "pair", command="test", lstm=tiny)
    card = train_pair_on_corpora(data, shipped_dir=tmp_path / "pair", out_dir=tmp_path / "taught", command="test",
                                 lstm=tiny, teacher=TuneConfig(layers=1, max_length=16))
    assert card["model_id"].startswith("text-bilstm-distilled-pair-5-corpora")
    assert card["training"]["first_model"] == first["model_id"]
    assert set(card["training"]["teacher"]["test"]) == {f"{name}_test" for name in CORPORA}
    assert {"teacher.pt", "teacher_train_probabilities.npy"} <= {p.name for p in (tmp_path / "taught").iterdir()}
    ids = {"word_ids": Vocabulary.load(tmp_path / "first" / "text_emotion.vocab.json").encode(["so angry", "yay"])}
    alone, second, pair = (ort.InferenceSession(str(path)).run(None, ids)[0] for path in
                           (tmp_path / "first" / "text_emotion.onnx", tmp_path / "taught" / "second.onnx",
                            tmp_path / "taught" / "text_emotion.onnx"))
    np.testing.assert_allclose(pair, (alone + second) / 2, atol=1e-6)
