"""Speech corpora readers, per-recording normalisation and leave-one-corpus-out, on tiny fake corpora."""

from pathlib import Path

import numpy as np
import pytest

from emotion_core.errors import InvalidInputError
from emotion_core.labels import EMOTIONS
from emotion_core.speech.corpora import (
    CORPORA,
    CORPUS_ENV,
    SPLIT,
    SpeechClip,
    corpus_clips,
    corpus_roots,
    speech_corpus_clips,
)
from emotion_core.training.speech.loco import Arm, CorpusFeatures, evaluate_arm, normalise_per_recording
from emotion_core.training.speech.self_calibration import recording_size_table


def _sound(path: Path, *, rate: int = 16000, channels: int = 1) -> None:
    import soundfile

    path.parent.mkdir(parents=True, exist_ok=True)
    samples = np.random.default_rng(0).normal(0, 0.1, (rate // 2, channels)).astype(np.float32)
    soundfile.write(path, samples if channels > 1 else samples[:, 0], rate)


@pytest.fixture()
def corpora(tmp_path, monkeypatch):
    for env in CORPUS_ENV.values():  # no corpus of this machine's environment joins the fakes
        monkeypatch.delenv(env, raising=False)
    shared, emovo = tmp_path / "speech", tmp_path / "EMOVO"
    _sound(shared / "ravdess/Actor_01/03-01-05-01-01-01-01.flac")  # angry, actor 01
    _sound(shared / "ravdess/Actor_22/03-01-02-01-01-01-22.flac")  # calm -> neutral, a test actor
    _sound(shared / "ravdess/Actor_01/02-01-05-01-01-01-01.flac")  # song, not speech: ignored
    _sound(shared / "emodb/03a01Wa.flac")  # anger
    _sound(shared / "emodb/16b10Lb.flac")  # boredom: no canonical counterpart
    _sound(emovo / "f1/rab-f1-b1.wav", rate=48000, channels=2)  # angry
    _sound(emovo / "m3/gio-m3-n5.wav", rate=48000, channels=2)  # happy, a test speaker
    _sound(emovo / "f1/xyz-f1-b1.wav")  # unknown code: ignored
    _sound(emovo / "f1/tri-m1-b1.wav")  # speaker in the name differs from the folder: ignored
    return shared, emovo


def test_each_corpus_is_read_with_its_label_and_speaker_coding(corpora):
    shared, emovo = corpora
    clips = speech_corpus_clips(shared, emovo_dir=emovo)
    found = {(c.corpus, c.speaker, c.raw_label, c.label, c.split) for c in clips}
    assert found == {
        ("ravdess", "01", "angry", "angry", "train"), ("ravdess", "22", "calm", "neutral", "test"),
        ("emodb", "03", "anger", "angry", "train"), ("emodb", "16", "boredom", None, "test"),
        ("emovo", "f1", "angry", "angry", "train"), ("emovo", "m3", "happy", "happy", "test"),
    }
    assert [c.corpus for c in clips] == ["ravdess"] * 2 + ["emodb"] * 2 + ["emovo"] * 2


def test_emovo_comes_from_its_own_folder_or_the_environment(corpora, monkeypatch):
    shared, emovo = corpora
    assert set(corpus_roots(shared)) == {"ravdess", "emodb"}
    monkeypatch.setenv("EMOTION_EMOVO_DIR", str(emovo))
    assert corpus_roots(shared)["emovo"] == emovo
    assert {c.corpus for c in speech_corpus_clips(None)} == {"emovo"}
    with pytest.raises(InvalidInputError, match="neither"):
        speech_corpus_clips(shared / "wrong", emovo_dir=emovo)
    with pytest.raises(InvalidInputError, match="no clips"):
        speech_corpus_clips(shared, corpora=("emovo",), emovo_dir=shared / "missing")


@pytest.fixture()
def own_folders(tmp_path, monkeypatch):
    """TESS, TurEV-DB and EYASE with their real naming, as empty files (the readers read names only)."""
    for env in CORPUS_ENV.values():
        monkeypatch.delenv(env, raising=False)
    folders = {name: tmp_path / name for name in ("tess", "turevdb", "eyase")}
    for path in (
        "tess/OAF_angry/OAF_back_angry.wav",  # angry, the older actress
        "tess/YAF_pleasant_surprised/YAF_back_ps.wav",  # pleasant surprise -> surprise; the test speaker
        "tess/datasets/testnew/751testOA_bite_neutral48.wav",  # deepxzy's renamed copy; OA is OAF
        "tess/OAF_angry/OAF_back_bored.wav",  # unknown code: ignored
        "turevdb/Calm/1234_sk_acik.wav",  # calm -> neutral
        "turevdb/Angry/1984_kz_acik.wav",  # angry; the test speaker
        "turevdb/Angry/1984_xx_acik.wav",  # unknown code: ignored
        "eyase/Female02/fm01_hap (3).wav",  # happy; the folder is the speaker, not the name's fm01
        "eyase/Male01/ml01_ang (1).wav",  # angry
        "eyase/Extra/ml01_ang (1).wav",  # a folder that is no speaker: ignored
    ):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).touch()
    return folders


def test_tess_turevdb_and_eyase_are_read_with_their_label_and_speaker_coding(own_folders):
    clips = speech_corpus_clips(None, dirs=own_folders)
    found = {(c.corpus, c.speaker, c.raw_label, c.label, c.split) for c in clips}
    assert found == {
        ("tess", "OAF", "angry", "angry", "train"), ("tess", "YAF", "pleasant surprise", "surprise", "test"),
        ("tess", "OAF", "neutral", "neutral", "train"),
        ("turevdb", "1234", "calm", "neutral", "train"), ("turevdb", "1984", "angry", "angry", "test"),
        ("eyase", "Female02", "happy", "happy", "validation"), ("eyase", "Male01", "angry", "angry", "train"),
    }
    assert [c.corpus for c in clips] == ["tess"] * 3 + ["turevdb"] * 2 + ["eyase"] * 2


def test_own_folders_come_from_the_parameter_or_the_environment(own_folders, monkeypatch, tmp_path):
    assert corpus_roots(None) == {}
    for corpus, folder in own_folders.items():
        monkeypatch.setenv(CORPUS_ENV[corpus], str(folder))
    assert corpus_roots(None) == own_folders
    assert corpus_roots(None, dirs={"tess": tmp_path / "missing"}).keys() == {"turevdb", "eyase"}
    assert {c.corpus for c in speech_corpus_clips(None, corpora=("eyase",))} == {"eyase"}


def test_unknown_corpus_names_are_refused(own_folders):
    with pytest.raises(InvalidInputError, match="cremad"):
        speech_corpus_clips(None, dirs=own_folders, corpora=("tess", "cremad"))
    with pytest.raises(InvalidInputError, match="ravdess"):  # RAVDESS lives in the shared folder, not its own
        corpus_roots(None, dirs={"ravdess": own_folders["tess"]})
    with pytest.raises(InvalidInputError, match="cremad"):
        corpus_clips("cremad", own_folders["tess"])


def test_the_split_keeps_each_speaker_in_one_part_of_a_known_corpus():
    assert set(SPLIT["test"]) | set(SPLIT["validation"]) <= set(CORPORA)
    for corpus in CORPORA:
        test, validation = SPLIT["test"][corpus], SPLIT["validation"].get(corpus, ())
        assert test and not set(test) & set(validation)


def test_a_48_khz_stereo_emovo_clip_decodes_to_16_khz_mono(corpora):
    from emotion_core.speech.audio import decode_audio

    clip = next(c for c in speech_corpus_clips(corpora[0], emovo_dir=corpora[1]) if c.corpus == "emovo")
    audio = decode_audio(clip.path)
    assert audio.samples.ndim == 1 and abs(audio.seconds - 0.5) < 0.01


def test_per_recording_normalisation_reads_features_and_grouping_only():
    rng = np.random.default_rng(1)
    features = rng.normal(5, 2, (12, 4))
    groups = ["a"] * 6 + ["b"] * 6
    centred = normalise_per_recording(features, groups, "centre")
    np.testing.assert_allclose(centred[:6].mean(0), 0, atol=1e-5)
    standardised = normalise_per_recording(features, groups, "standardise")
    np.testing.assert_allclose(standardised[6:].std(0), 1, atol=1e-5)

    def data_with_labels(labels):
        clips = [SpeechClip(Path(f"{i}.wav"), "ravdess", g, lab, lab) for i, (g, lab) in enumerate(zip(groups, labels))]
        return CorpusFeatures(clips, features)

    rows = np.arange(12)
    one = data_with_labels(["angry"] * 12).normalised(rows, "standardise")
    other = data_with_labels([EMOTIONS[i % 7] for i in range(12)]).normalised(rows, "standardise")
    np.testing.assert_array_equal(one, other)  # the judged clip's label never reaches its normalisation


def synthetic_corpora(seed: int = 0, *, clips_per_speaker: int = 14) -> CorpusFeatures:
    """Three corpora whose emotions are written the same way, each corpus and speaker shifting every feature."""
    rng = np.random.default_rng(seed)
    clips, rows = [], []
    speakers = {"ravdess": [f"{i:02d}" for i in range(1, 25)], "emodb": ["03", "08", "09", "12", "15", "16"],
                "emovo": ["f1", "f2", "f3", "m1", "m2", "m3"]}
    for corpus, names in speakers.items():
        shift = rng.normal(0, 4, 12)
        for speaker in names:
            voice = shift + rng.normal(0, 1, 12)
            for k in range(clips_per_speaker):
                label = EMOTIONS[k % 7]
                clips.append(SpeechClip(Path(f"{corpus}-{speaker}-{k}.wav"), corpus, speaker, label, label))
                rows.append(voice + np.eye(7, 12)[k % 7] * 3 + rng.normal(0, 0.5, 12))
    return CorpusFeatures(clips, np.array(rows, np.float32))


def test_loco_tests_each_corpus_on_a_model_that_never_saw_it():
    data = synthetic_corpora()
    plain = evaluate_arm(data, Arm("plain", c=1.0))
    centred = evaluate_arm(data, Arm("centred", normalisation="centre", c=1.0))
    assert set(plain["loco"]) == {"ravdess", "emodb", "emovo"}
    assert plain["loco"]["emovo"]["n"] == 6 * 14 and plain["in_corpus"]["emovo"]["n"] == 2 * 14
    # corpus shifts break the plain model on an unheard corpus; centring each voice on itself removes them
    assert centred["loco_mean_uar"] > 0.9 > plain["loco_mean_uar"]
    rows, probs = centred["oof"]["emodb"]
    assert {data.clips[i].corpus for i in rows} == {"emodb"} and np.allclose(probs.sum(1), 1)


def joined_corpora() -> CorpusFeatures:
    """The synthetic corpora with ComParE-wide and eGeMAPS-wide parts, the emotion written in both."""
    from emotion_core.speech.predictor import COMPARE_FEATURES

    small = synthetic_corpora()
    noise = np.random.default_rng(1).normal(0, 1, (len(small.clips), COMPARE_FEATURES + 88 - 24))
    parts = [small.features, noise[:, :COMPARE_FEATURES - 12], small.features, noise[:, COMPARE_FEATURES - 12:]]
    return CorpusFeatures(small.clips, np.concatenate(parts, 1).astype(np.float32))


def test_a_soft_vote_of_compare_and_egemaps_exports_the_weighted_mean_of_its_members(tmp_path):
    from emotion_core.runtime import load_onnx_session
    from emotion_core.training.speech.functionals import export_functionals_classifier

    data = joined_corpora()
    arm = Arm("vote", feature_set="compare+egemaps", normalisation="standardise", c=0.01, egemaps_weight=0.3)
    rows = data.rows(corpora=["ravdess", "emodb", "emovo"], splits=("train", "validation"))
    model = data.fit(rows, arm)
    compare, egemaps = model.estimators_
    assert compare[-1].coef_.shape == (7, 6373) and egemaps[-1].coef_.shape == (7, 88)
    features = data.normalised(rows, "standardise")
    expected = 0.7 * compare.predict_proba(features) + 0.3 * egemaps.predict_proba(features)
    np.testing.assert_allclose(model.predict_proba(features), expected, rtol=1e-6)
    export_functionals_classifier(model, tmp_path / "vote.onnx")
    session = load_onnx_session(tmp_path / "vote.onnx")
    (probs,) = session.run([session.get_outputs()[-1].name], {session.get_inputs()[0].name: features})
    np.testing.assert_allclose(probs, expected, atol=1e-4)
    assert evaluate_arm(data, arm)["loco_mean_uar"] > 0.9


def test_a_joined_feature_set_reads_its_parts_from_the_cache_side_by_side(tmp_path):
    from emotion_core.training.speech.data import _cache_file, cached_features

    data = synthetic_corpora()
    for corpus in ("ravdess", "emodb", "emovo"):
        rows = [i for i, c in enumerate(data.clips) if c.corpus == corpus]
        paths = np.array([str(data.clips[i].path) for i in rows])
        for part, features in (("compare", data.features[rows]), ("egemaps", -data.features[rows, :3])):
            np.savez(_cache_file(tmp_path, corpus, part, "clean"), features=features, paths=paths)
    joined = cached_features(data.clips, "compare+egemaps", tmp_path)
    np.testing.assert_array_equal(joined, np.concatenate([data.features, -data.features[:, :3]], 1))


def test_speed_copies_are_read_per_factor_from_the_cache_and_trained_on_beside_the_clean_clips(tmp_path,
                                                                                                monkeypatch):
    from emotion_core.training.speech import loco
    from emotion_core.training.speech.data import SPEED_FACTORS, _cache_file, speed_variant

    data = synthetic_corpora()
    for corpus in ("ravdess", "emodb", "emovo"):
        rows = [i for i, c in enumerate(data.clips) if c.corpus == corpus]
        paths = np.array([str(data.clips[i].path) for i in rows])
        for k, factor in enumerate((1.0, *SPEED_FACTORS)):
            np.savez(_cache_file(tmp_path, corpus, "compare", speed_variant(factor)), paths=paths,
                     features=data.features[rows] + 100 * k)
    arm = Arm("speed", speed_copies=True, c=1.0)
    loaded = CorpusFeatures.for_arm(data.clips, arm, tmp_path)
    assert list(loaded.speeds) == list(SPEED_FACTORS) and speed_variant(1.0) == "clean"
    np.testing.assert_array_equal(loaded.speeds[SPEED_FACTORS[2]], data.features + 300)

    seen = {}

    class Recorder:
        def fit(self, features, targets, **weights):
            seen.update(features=features, targets=targets, weights=weights["logisticregression__sample_weight"])
            return self

    monkeypatch.setattr(loco, "logistic_regression", lambda c, columns=None: Recorder())
    rows = loaded.rows(corpora=["ravdess"], splits=("train",))
    loaded.fit(rows, arm)
    copies = 1 + len(SPEED_FACTORS)
    assert seen["features"].shape == (copies * len(rows), 12) and len(seen["weights"]) == copies * len(rows)
    np.testing.assert_array_equal(seen["features"][len(rows):2 * len(rows)], data.features[rows] + 100)
    assert seen["targets"] == [EMOTIONS.index(data.clips[i].label) for i in rows] * copies
    loaded.fit(rows, Arm("plain", c=1.0))  # an arm without copies trains on the clean clips alone
    assert seen["features"].shape == (len(rows), 12)


def test_the_words_for_an_arm_are_those_of_the_shipped_self_calibrated_card():
    from emotion_core.modelcard import load_card
    from emotion_core.training.speech.loco import arm_architecture

    card = load_card(Path(__file__).parents[2] / "models", "speech_emotion_self_calibrated")
    arm = Arm(**{k: v for k, v in card["training"]["arm"].items() if k in Arm.__dataclass_fields__})
    assert arm_architecture(arm) == card["architecture"]
    single_clip = arm_architecture(Arm("vote", feature_set="compare+egemaps", c=0.003, egemaps_weight=0.4))
    assert single_clip.endswith("functionals, standardised; a multinomial logistic regression on each (L2, C=0.003 "
                                "and 0.1), their probabilities averaged (0.6 and 0.4)")


def test_the_self_calibrated_model_is_made_of_the_best_arm_standardised_per_recording():
    from emotion_core.training.speech.self_calibration import self_calibration_arm

    def result(arm: Arm, loco: float) -> dict:
        return {"arm": arm, "loco_mean_uar": loco}

    results = {"compare": result(Arm("compare"), 0.9), "centred": result(Arm("centred", normalisation="centre"), 0.8),
               "standardised": result(Arm("standardised", normalisation="standardise"), 0.4),
               "vote": result(Arm("vote", "compare+egemaps", normalisation="standardise", egemaps_weight=0.3), 0.5)}
    assert self_calibration_arm(results) == "vote"
    assert self_calibration_arm({"compare": results["compare"]}) is None


def test_recording_sizes_score_recordings_normalised_on_themselves():
    data = synthetic_corpora()
    arm = Arm("centred", normalisation="centre", c=1.0)
    table = recording_size_table(data, arm, [2, 7, 0])["sizes"]
    # all of a speaker's clips as one recording is exactly the arm's own LOCO figure
    assert table["all"]["loco_mean_uar"] == evaluate_arm(data, arm)["loco_mean_uar"]
    assert table["all"]["loco"]["emovo"]["n"] == 6 * 14 and table["7"]["loco"]["emovo"]["n"] == 6 * 3 * 14
    # in-corpus: only the test speakers (two of EMOVO's six), judged by the model of every corpus' other speakers
    assert table["all"]["in_corpus"]["emovo"]["n"] == 2 * 14 and table["7"]["in_corpus"]["emovo"]["n"] == 2 * 3 * 14
    # a recording of two clips knows its voice worse than one of seven
    assert table["2"]["loco_mean_uar"] < table["7"]["loco_mean_uar"]
    with pytest.raises(ValueError, match="does not normalise"):
        recording_size_table(data, Arm("plain"), [5])


def test_an_arm_ships_only_if_it_beats_the_recipe_under_loco_and_keeps_the_in_corpus_figures():
    from emotion_core.training.speech.ship import choose_arm

    baseline = {"metrics": {"ravdess_test": {"uar": 0.70}, "emodb_test": {"uar": 0.76}}}

    def result(loco, ravdess, emodb, normalisation="none"):
        return {"loco_mean_uar": loco, "in_corpus": {"ravdess": {"uar": ravdess}, "emodb": {"uar": emodb}},
                "arm": Arm("x", normalisation=normalisation)}

    assert choose_arm({"compare": result(0.35, 0.69, 0.75), "better": result(0.40, 0.685, 0.745)}, baseline) == "better"
    # a higher LOCO mean bought with 2+ points in-corpus does not ship, nor does the recipe itself
    assert choose_arm({"compare": result(0.35, 0.69, 0.75), "lossy": result(0.45, 0.67, 0.76)}, baseline) is None
    assert choose_arm({"compare": result(0.35, 0.69, 0.75)}, baseline) is None
    # normalised on a speaker's clips together: not a single-clip figure
    assert choose_arm({"compare": result(0.35, 0.69, 0.75), "own": result(0.45, 0.72, 0.8, "centre")}, baseline) is None


def test_self_calibration_starts_at_the_smallest_recording_size_that_pays():
    from emotion_core.training.speech.self_calibration import smallest_paying_size

    def row(loco, ravdess):
        return {"loco_mean_uar": loco, "loco": {}, "in_corpus": {"ravdess": {"uar": ravdess}}}

    table = {"sizes": {"5": row(0.40, 0.60), "10": row(0.42, 0.69), "20": row(0.43, 0.71), "all": row(0.44, 0.72)}}
    # 5 segments beat the single clip under LOCO but lose too much in-corpus; 10 is the first that keeps both
    assert smallest_paying_size(table, loco_to_beat=0.35, in_corpus_floor={"ravdess": 0.68}) == 10
    assert smallest_paying_size(table, loco_to_beat=0.425, in_corpus_floor={"ravdess": 0.68}) == 20
    # no size pays: nothing ships ("all" is a whole speaker, not a size a recording can be asked for)
    assert smallest_paying_size(table, loco_to_beat=0.435, in_corpus_floor={"ravdess": 0.68}) is None


def test_self_calibration_picks_the_fewest_segments_then_the_best_regularisation_under_loco():
    from emotion_core.training.speech.self_calibration import choose_self_calibration

    data = synthetic_corpora()
    arm = Arm("standardised", normalisation="standardise")
    arm_chosen, size, tables = choose_self_calibration(data, arm, loco_to_beat=0.5, in_corpus_floor={"emodb": 0.5},
                                                       c_grid=(0.01, 1.0), sizes=(2, 7))
    assert set(tables) == {0.01, 1.0} and arm_chosen.c in tables and arm_chosen.normalisation == "standardise"
    by_size = {c: [k for k in ("2", "7") if t["sizes"][k]["loco_mean_uar"] > 0.5
                   and t["sizes"][k]["in_corpus"]["emodb"]["uar"] >= 0.5] for c, t in tables.items()}
    assert str(size) == min(k for ks in by_size.values() for k in ks)
    assert choose_self_calibration(data, arm, loco_to_beat=1.0, in_corpus_floor={}, c_grid=(1.0,), sizes=(2,)) is None


def test_training_writes_the_self_calibrated_model_with_its_threshold_and_confidence(tmp_path):
    from datetime import datetime, timezone

    from emotion_core.modelcard import load_card
    from emotion_core.runtime import load_onnx_session
    from emotion_core.speech.predictor import SELF_CALIBRATED_SPEECH_MODEL, normalise_recording
    from emotion_core.training.speech.data import _cache_file
    from emotion_core.training.speech.self_calibration import SELF_CALIBRATION_C, self_calibrated_model

    data = synthetic_corpora(clips_per_speaker=42)  # enough for recordings of 40 clips
    for corpus in ("ravdess", "emodb", "emovo"):  # the feature cache the trainer reads, keyed by path
        rows = [i for i, c in enumerate(data.clips) if c.corpus == corpus]
        np.savez(_cache_file(tmp_path, corpus, "compare", "clean"), features=data.features[rows],
                 paths=np.array([str(data.clips[i].path) for i in rows]))
    results = {"compare": evaluate_arm(data, Arm("compare")),
               "standardised": evaluate_arm(data, Arm("standardised", normalisation="standardise"))}
    shipped = {"metrics": {"ravdess_test": {"uar": 0.5}, "emodb_test": {"uar": 0.5}}, "file": "speech_emotion.onnx",
               "input": {"features": "synthetic"}, "inference": {"runtime": "onnxruntime"}}
    card = self_calibrated_model(data.clips, results, shipped, tmp_path, tmp_path, command="test",
                                  started=datetime(2026, 12, 2, tzinfo=timezone.utc))
    assert card == load_card(tmp_path, SELF_CALIBRATED_SPEECH_MODEL)
    # voices differ, emotions are written alike: a recording of 5 clips already calibrates well enough
    assert card["input"]["min_segments"] == 5 and card["input"]["recording_standardised"]
    assert set(card["training"]["c_sweep"]) == {str(c) for c in SELF_CALIBRATION_C}
    assert card["loco"]["mean_uar_at_min_segments"] > results["compare"]["loco_mean_uar"]
    assert card["confidence"]["temperature"] > 0 and "isa" in card["training"]["machine"]
    assert card["metrics"]["emovo_test"]["n"] == 2 * (3 * 42 // 5) * 5  # 2 test speakers, each clip drawn ~3 times

    # the exported model reads a recording standardised on itself, whatever the voice's own level
    session = load_onnx_session(tmp_path / card["file"])
    speaker = np.flatnonzero([c.speaker == "f3" for c in data.clips])[:14]
    for shift in (0.0, 50.0):
        features = normalise_recording(data.features[speaker] + shift, "standardise")
        (probs,) = session.run([session.get_outputs()[-1].name], {session.get_inputs()[0].name: features})
        assert np.mean(probs.argmax(1) == [EMOTIONS.index(data.clips[i].label) for i in speaker]) > 0.9
