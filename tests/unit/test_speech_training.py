"""The speech training pieces that need no corpus: speaker-grouped model choice, the classical model's ONNX
export read by the predictor, and the ComParE features."""

from pathlib import Path

import numpy as np
import pytest

from emotion_core.errors import ModelUnavailableError
from emotion_core.labels import EMOTIONS
from emotion_core.speech.audio import SAMPLE_RATE, Audio
from emotion_core.speech.corpora import SpeechClip
from emotion_core.speech.predictor import (
    SpeechPredictor,
    compare_functionals,
    model_input_from_card,
    normalise_recording,
)
from emotion_core.training.speech.functionals import (
    FunctionalsConfig,
    FunctionalsData,
    choose_regularisation,
    export_functionals_classifier,
)

pytest.importorskip("skl2onnx")


def synthetic_data(*, label_follows_speaker: bool, seed: int = 0) -> FunctionalsData:
    """Train and validation clips of 20 RAVDESS actors and 8 EmoDB speakers, with 12 features.

    Either every clip's features say its emotion (with noise), or each speaker speaks one emotion only and the
    features say only who is speaking: then a model can look right only by recognising speakers it has seen.
    """
    rng = np.random.default_rng(seed)
    speakers = [("ravdess", f"{i:02d}") for i in range(1, 21)] + [("emodb", s) for s in
                                                                 ("03", "08", "09", "10", "11", "12", "13", "14")]
    clips, rows = [], []
    for number, (corpus, speaker) in enumerate(speakers):
        voice = rng.normal(0, 3, 12)
        for k in range(14):
            label = EMOTIONS[number % 7] if label_follows_speaker else EMOTIONS[k % 7]
            clips.append(SpeechClip(path=Path(f"{corpus}-{speaker}-{k}.wav"), corpus=corpus, speaker=speaker,
                                    raw_label=label, label=label))
            signal = voice if label_follows_speaker else np.eye(7, 12)[EMOTIONS.index(label)] * 3
            rows.append(signal + rng.normal(0, 0.5, 12))
    features = np.array(rows, np.float32)
    copies = {factor: features + rng.normal(0, 0.05, features.shape).astype(np.float32)
              for factor in FunctionalsConfig().speed_factors}
    return FunctionalsData(clips, {1.0: features, **copies})


def test_regularisation_is_chosen_on_held_out_speakers():
    c, report = choose_regularisation(synthetic_data(label_follows_speaker=False), FunctionalsConfig())
    assert c in FunctionalsConfig().c_grid and report["chosen_c"] == c
    assert report["mean_uar_of_chosen"] > 0.9

    # Emotion readable only from who speaks: folds that kept speakers apart score near chance (1/7).
    _, leaky = choose_regularisation(synthetic_data(label_follows_speaker=True), FunctionalsConfig())
    assert leaky["mean_uar_of_chosen"] < 0.4


def test_exported_classifier_gives_the_same_canonical_probabilities(tmp_path):
    data = synthetic_data(label_follows_speaker=False)
    model = data.fit(data.rows("train"), c=0.1, factors=FunctionalsConfig().speed_factors)
    export_functionals_classifier(model, tmp_path / "speech.onnx")
    from emotion_core.runtime import load_onnx_session

    rows = data.rows("validation")
    features = data.by_speed[1.0][rows]
    predictor = SpeechPredictor(session=load_onnx_session(tmp_path / "speech.onnx"), model_id="test",
                                model_input=lambda samples: samples[None])
    probs = np.stack([predictor.classify(row) for row in features])
    np.testing.assert_allclose(probs, model.predict_proba(features), atol=1e-4)
    assert [EMOTIONS[i] for i in probs.argmax(1)] == data.labels(rows)


def test_compare_functionals_of_a_voice_like_sound():
    t = np.arange(16000) / 16000
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12)) * np.clip(np.sin(2 * np.pi * 4 * t), 0, 1)
    features = compare_functionals((0.3 * voice / np.abs(voice).max()).astype(np.float32))
    assert features.shape == (6373,) and features.dtype == np.float32 and np.isfinite(features).all()
    assert np.count_nonzero(features) > 6000


def test_the_joined_input_is_compare_then_egemaps_functionals_of_the_same_sound():
    from emotion_core.speech.predictor import COMPARE_FEATURES, egemaps_functionals

    t = np.arange(16000) / 16000
    voice = (0.3 * np.sin(2 * np.pi * 180 * t) * np.clip(np.sin(2 * np.pi * 3 * t), 0, 1)).astype(np.float32)
    joined = model_input_from_card({"input": {"kind": "compare_egemaps_functionals"}})(voice)
    assert joined.shape == (1, COMPARE_FEATURES + 88)
    np.testing.assert_array_equal(joined[0, :COMPARE_FEATURES], compare_functionals(voice))
    np.testing.assert_array_equal(joined[0, COMPARE_FEATURES:], egemaps_functionals(voice))


def test_an_unknown_input_kind_is_a_clear_error():
    with pytest.raises(ModelUnavailableError, match="unknown input kind 'spectrogram'"):
        model_input_from_card({"input": {"kind": "spectrogram"}})


def test_features_computed_in_parallel_threads_equal_those_computed_one_at_a_time():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(3)
    t = np.arange(8000) / 16000
    signals = [(0.2 * np.sin(2 * np.pi * f * t) + rng.normal(0, 0.01, t.size)).astype(np.float32)
               for f in (110, 150, 220, 300)]
    one_at_a_time = [compare_functionals(s) for s in signals]
    with ThreadPoolExecutor(max_workers=4) as pool:
        in_parallel = list(pool.map(compare_functionals, signals))
    for a, b in zip(one_at_a_time, in_parallel):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(one_at_a_time[0], one_at_a_time[1])


def test_a_classifier_missing_a_label_is_not_exported(tmp_path):
    data = synthetic_data(label_follows_speaker=False)
    without_surprise = np.array([i for i in data.rows("train") if data.clips[i].label != "surprise"])
    model = data.fit(without_surprise, c=0.1, factors=())
    with pytest.raises(ValueError, match="all 7 canonical labels"):
        export_functionals_classifier(model, tmp_path / "speech.onnx")
    assert not (tmp_path / "speech.onnx").exists()


def voices_differ_more_than_emotions(seed: int = 0) -> FunctionalsData:
    """Like :func:`synthetic_data`, but each speaker's voice adds a large offset of their own to every clip."""
    data = synthetic_data(label_follows_speaker=False, seed=seed)
    rng = np.random.default_rng(seed + 1)
    speakers = data.speakers(np.arange(len(data.clips)))
    offsets = {s: rng.normal(0, 4, 12).astype(np.float32) for s in np.unique(speakers)}
    shift = np.stack([offsets[s] for s in speakers])
    return FunctionalsData(data.clips, {factor: rows + shift for factor, rows in data.by_speed.items()})


def test_centring_on_a_speaker_uses_their_own_clips_and_never_the_judged_one():
    data = synthetic_data(label_follows_speaker=False)
    rows = data.rows(("train", "validation"))
    speakers = data.speakers(rows)
    together = data.features(rows, centred="together")
    others = data.features(rows, centred="others")
    raw = data.by_speed[1.0][rows]
    for speaker in np.unique(speakers)[:3]:
        members = np.flatnonzero(speakers == speaker)
        np.testing.assert_allclose(together[members].mean(0), 0, atol=1e-5)
        first, rest = members[0], members[1:]
        np.testing.assert_allclose(others[first], raw[first] - raw[rest].mean(0), atol=1e-5)


def test_calibration_removes_what_differs_between_voices():
    data = voices_differ_more_than_emotions()
    _, absolute = choose_regularisation(data, FunctionalsConfig())
    _, centred = choose_regularisation(data, FunctionalsConfig(), centred=True)
    assert centred["mean_uar_of_chosen"] > 0.9 > absolute["mean_uar_of_chosen"] + 0.1


def test_the_calibrated_predictor_subtracts_the_speaker_profile(tmp_path):
    from emotion_core.errors import InvalidInputError
    from emotion_core.runtime import load_onnx_session
    from emotion_core.speech.predictor import MIN_CALIBRATION_SEGMENTS, SpeakerProfile

    data = voices_differ_more_than_emotions()
    model = data.fit(data.rows("train"), c=0.1, factors=FunctionalsConfig().speed_factors, centred=True)
    export_functionals_classifier(model, tmp_path / "calibrated.onnx")
    session = load_onnx_session(tmp_path / "calibrated.onnx")
    predictor = SpeechPredictor(session=session, model_id="test", model_input=lambda samples: samples[None],
                                speaker_centred=True)
    speaker_rows = data.rows("validation")[:14]  # one speaker's 14 clips
    features = data.by_speed[1.0][speaker_rows]
    with pytest.raises(InvalidInputError, match="needs a speaker profile"):
        predictor.classify(features[0])
    with pytest.raises(InvalidInputError, match="at least"):
        SpeakerProfile.from_functionals(features[:MIN_CALIBRATION_SEGMENTS - 1])
    profile = SpeakerProfile.from_functionals(features)
    assert profile.segments == 14
    calibrated = predictor.for_speaker(profile)
    assert predictor.profile is None and calibrated.session is session
    probs = np.stack([calibrated.classify(row) for row in features])
    np.testing.assert_allclose(probs, model.predict_proba(features - features.mean(0)), atol=1e-4)
    assert np.mean([EMOTIONS[i] for i in probs.argmax(1)] == np.array(data.labels(speaker_rows))) > 0.9

    plain = SpeechPredictor(session=session, model_id="plain", model_input=lambda samples: samples[None])
    with pytest.raises(InvalidInputError, match="does not use speaker calibration"):
        plain.for_speaker(profile)


def bursts(loudness: list[float]) -> Audio:
    """A recording of tone bursts (0.6 s each, 0.6 s of silence between them): one voiced segment per burst."""
    t = np.arange(int(0.6 * SAMPLE_RATE)) / SAMPLE_RATE
    gap = np.zeros(int(0.6 * SAMPLE_RATE), np.float32)
    pieces = [gap]
    for level in loudness:
        pieces += [(level * np.sin(2 * np.pi * 220 * t)).astype(np.float32), gap]
    return Audio(samples=np.concatenate(pieces), source="bursts")


def burst_features(samples: np.ndarray) -> np.ndarray:
    """Two features of a stretch: its loudness and its length."""
    return np.array([[20 * np.log10(samples.std() + 1e-6), len(samples) / SAMPLE_RATE]], np.float32)


def test_normalise_recording_standardises_each_feature_on_the_recording_itself():
    rows = np.array([[1.0, 5.0, 3.0], [3.0, 5.0, 4.0], [5.0, 5.0, 8.0]], np.float32)
    standardised = normalise_recording(rows, "standardise")
    np.testing.assert_allclose(standardised.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(standardised[:, [0, 2]].std(0), 1, atol=1e-5)
    assert np.isfinite(standardised).all() and not standardised[:, 1].any()  # a constant feature is all zeros
    np.testing.assert_allclose(normalise_recording(rows, "centre"), rows - rows.mean(0))
    with pytest.raises(ValueError, match="normalisation"):
        normalise_recording(rows, "whiten")


def test_a_long_recording_is_judged_by_the_self_calibrated_model_on_its_own_scale(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from emotion_core.errors import InvalidInputError
    from emotion_core.runtime import load_onnx_session
    from emotion_core.speech.analysis import analyze_audio

    rng = np.random.default_rng(0)
    standardised = rng.normal(0, 1, (700, 2))
    labels = np.digitize(standardised[:, 0], np.quantile(standardised[:, 0], np.linspace(0, 1, 8)[1:-1]))
    model = make_pipeline(StandardScaler(), LogisticRegression(C=10.0, max_iter=2000)).fit(standardised, labels)
    export_functionals_classifier(model, tmp_path / "own.onnx")
    own = SpeechPredictor(session=load_onnx_session(tmp_path / "own.onnx"), model_id="own", min_segments=10,
                          model_input=burst_features)
    single = SpeechPredictor(session=load_onnx_session(tmp_path / "own.onnx"), model_id="single",
                             model_input=burst_features, self_calibrated=own)

    long = bursts([0.02 * 1.3 ** k for k in range(12)])  # 12 bursts ever louder: loudness ranks them
    assert single.for_recording(long) is own
    results = own.predict(long)
    assert [r.model_id for r in results] == ["own"] * 12
    raw = np.concatenate([burst_features(s) for s in (long.samples[int(r.span[0] * SAMPLE_RATE):
                                                                    int(r.span[1] * SAMPLE_RATE)] for r in results)])
    np.testing.assert_allclose([[r.scores[e] for e in EMOTIONS] for r in results],
                               model.predict_proba(normalise_recording(raw, "standardise")), atol=1e-4)
    # the same voice ten times louder is the same recording to a model that calibrates on it
    louder = own.predict(Audio(samples=long.samples * 10, source="louder"))
    assert [r.label for r in louder] == [r.label for r in results]

    analysis = analyze_audio(long, single)
    assert analysis.calibration == {"recording_segments": 12} and analysis.overall.model_id == "own"
    assert analysis.to_dict()["calibration"] == {"recording_segments": 12}

    short = bursts([0.1] * 5)
    assert single.for_recording(short) is single
    assert analyze_audio(short, single).calibration is None
    with pytest.raises(InvalidInputError, match="at least 10"):
        own.predict(short)
    with pytest.raises(InvalidInputError, match="whole recording"):
        own.classify(short.samples)
