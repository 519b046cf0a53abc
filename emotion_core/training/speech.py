"""Train and compare speech-emotion models on RAVDESS and EmoDB, speaker-independently.

Every clip's speaker is in exactly one of train, validation and test (:data:`SPLIT`). Two arms are compared
on the same speakers:

- the seed paper's deep model (001): a 1-D CNN over MFCC frames, trained on the train speakers, its epoch
  chosen on the validation speakers;
- a classical model: openSMILE's ComParE 2016 functionals, standardised, multinomial logistic regression.
  Training clips are also seen sped up and slowed down (speed perturbation, which shifts pitch and formants
  like another speaker's voice would). Its regularisation is chosen by speaker-grouped cross-validation over
  the train and validation speakers.

Each arm is first fitted on the train speakers alone and scored on the validation speakers; the better one is
shipped (the classical one refitted on train and validation speakers together). Both arms' test figures go
into the model card, measured through :class:`~emotion_core.speech.predictor.SpeechPredictor` exactly as
``evaluate speech`` does.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.evaluation import classification_report
from emotion_core.labels import EMOTIONS
from emotion_core.speech.corpora import SPLIT, SpeechClip, speech_corpus_clips


def corpus_clips(data_dir: str | Path, *, emovo_dir: str | Path | None = None) -> list[SpeechClip]:
    """Every RAVDESS and EmoDB clip under ``data_dir`` (``ravdess/Actor_NN/*.flac``, ``emodb/*.flac``), and
    EMOVO's when ``emovo_dir`` is given (see :mod:`emotion_core.speech.corpora`)."""
    corpora = ("ravdess", "emodb", "emovo") if emovo_dir else ("ravdess", "emodb")
    return speech_corpus_clips(data_dir, emovo_dir=emovo_dir, corpora=corpora)


def clip_features(clips: Sequence[SpeechClip], *, cache: Path | None = None) -> list[np.ndarray]:
    """MFCC features of each clip's voiced part, cached when asked."""
    from emotion_core.progress import progress
    from emotion_core.speech.predictor import mfcc_features

    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as stored:
            if list(stored["paths"]) == [str(c.path) for c in clips]:
                return np.split(stored["frames"], stored["offsets"][1:-1])
    features = [mfcc_features(voiced_part(clip)) for clip in progress(clips, desc="MFCC features", unit="clip")]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        offsets = np.cumsum([0] + [len(f) for f in features])
        np.savez(cache, paths=np.array([str(c.path) for c in clips]), frames=np.concatenate(features),
                 offsets=offsets)
    return features


def voiced_part(clip: SpeechClip) -> np.ndarray:
    """The clip's samples from its first to its last voiced segment (the corpora pad clips with silence)."""
    from emotion_core.speech.audio import SAMPLE_RATE, decode_audio
    from emotion_core.speech.predictor import HOP, voiced_segments

    samples = decode_audio(clip.path, name=clip.path.name).samples
    segments = voiced_segments(samples)
    if segments:
        samples = samples[int(segments[0].start_s * SAMPLE_RATE):int(segments[-1].end_s * SAMPLE_RATE) + HOP]
    return samples


def speed_perturbed(samples: np.ndarray, factor: float) -> np.ndarray:
    """The recording played ``factor`` times as fast: shorter, and pitch and formants scaled by ``factor``."""
    import librosa

    from emotion_core.speech.audio import SAMPLE_RATE

    if factor == 1.0:
        return samples
    return librosa.resample(samples, orig_sr=SAMPLE_RATE, target_sr=int(round(SAMPLE_RATE / factor)))


def clip_functionals(clips: Sequence[SpeechClip], factors: Sequence[float], *,
                     cache: Path | None = None) -> dict[float, np.ndarray]:
    """ComParE functionals ``(clips, 6373)`` of each clip's voiced part at each speed factor, cached when asked."""
    from emotion_core.progress import progress
    from emotion_core.speech.predictor import compare_functionals

    paths = np.array([str(c.path) for c in clips])
    keys = {factor: f"speed_{factor:g}" for factor in factors}
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as stored:
            if np.array_equal(stored["paths"], paths) and all(k in stored for k in keys.values()):
                return {factor: stored[key] for factor, key in keys.items()}
    rows: dict[float, list[np.ndarray]] = {factor: [] for factor in factors}
    for clip in progress(clips, desc="ComParE functionals", unit="clip"):
        samples = voiced_part(clip)
        for factor in factors:
            rows[factor].append(compare_functionals(speed_perturbed(samples, factor)))
    functionals = {factor: np.stack(values) for factor, values in rows.items()}
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, paths=paths, **{keys[factor]: values for factor, values in functionals.items()})
    return functionals


def uar(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    return classification_report(y_true, y_pred)["uar"]


def split_summary(clips: Sequence[SpeechClip], *, corpora: Sequence[str] = ("ravdess", "emodb")) -> dict[str, Any]:
    """Speakers and clip counts per split and corpus, for the model card."""
    summary: dict[str, Any] = {}
    for split in ("train", "validation", "test"):
        for corpus in corpora:
            chosen = [c for c in clips if c.split == split and c.corpus == corpus]
            summary.setdefault(split, {})[corpus] = {
                "speakers": sorted({c.speaker for c in chosen}),
                "clips": sum(c.label is not None for c in chosen),
                "left_out": {raw: sum(c.raw_label == raw for c in chosen) for raw in
                             sorted({c.raw_label for c in chosen if c.label is None})},
            }
    return summary


LABEL_INDEX = {label: i for i, label in enumerate(EMOTIONS)}


@dataclass(frozen=True)
class SpeechCnnConfig:
    """Hyper-parameters of the 1-D CNN; all go into the model card."""

    crop_frames: int = 300  # 3 s training crops; inference reads whole segments
    filters: tuple[int, ...] = (128, 256, 256)
    dropout: float = 0.4
    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 11


def normalisation(features: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation over every training frame."""
    frames = np.concatenate(features)
    return frames.mean(0).astype(np.float32), np.maximum(frames.std(0), 1e-3).astype(np.float32)


def balanced_weights(labels: Sequence[str], corpora: Sequence[str]) -> np.ndarray:
    """Each corpus half the weight, and inside it classes by inverse frequency; mean 1."""
    labels, corpora = np.asarray(labels), np.asarray(corpora)
    weights = np.zeros(len(labels))
    for corpus in np.unique(corpora):
        members = corpora == corpus
        for label in np.unique(labels[members]):
            chosen = members & (labels == label)
            weights[chosen] = 1.0 / chosen.sum()
        weights[members] /= weights[members].sum()
    return weights * len(weights) / weights.sum()


def build_speech_cnn(config: SpeechCnnConfig, *, features: int):
    """A 1-D CNN over MFCC frames: two conv blocks with pooling, a third conv, then mean and max over time.

    Any number of frames goes in, so the exported model reads whole segments.
    """
    import keras
    from keras import layers

    from emotion_core.training.layers import FusedBatchNorm

    inputs = keras.Input((None, features), name="mfcc")
    x = inputs
    for block, width in enumerate(config.filters):
        for _ in range(1 if block == len(config.filters) - 1 else 2):
            x = layers.Conv1D(width, 5 if block == 0 else 3, padding="same", use_bias=False)(x)
            x = FusedBatchNorm()(x)
            x = layers.ReLU()(x)
        if block < len(config.filters) - 1:
            x = layers.MaxPooling1D(2)(x)
            x = layers.Dropout(0.2)(x)
    pooled = layers.Concatenate()([layers.GlobalAveragePooling1D()(x), layers.GlobalMaxPooling1D()(x)])
    pooled = layers.Dropout(config.dropout)(pooled)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", name="emotion")(pooled)
    return keras.Model(inputs, outputs, name="speech_cnn")


def _speech_batches(features, targets, weights, config: SpeechCnnConfig):
    import keras

    class Crops(keras.utils.PyDataset):
        """Random 3-s crops (zero-padded when shorter), two time masks and a band of features masked, noise."""

        def __init__(self):
            super().__init__()
            self.epoch = 0

        def __len__(self):
            return int(np.ceil(len(features) / config.batch_size))

        def on_epoch_end(self):
            self.epoch += 1

        def __getitem__(self, index):
            rng = np.random.default_rng((config.seed, self.epoch, index))
            order = np.random.default_rng((config.seed, self.epoch)).permutation(len(features))
            chosen = order[index * config.batch_size:(index + 1) * config.batch_size]
            batch = np.zeros((len(chosen), config.crop_frames, features[0].shape[1]), np.float32)
            for row, i in enumerate(chosen):
                clip = features[i]
                start = rng.integers(0, max(1, len(clip) - config.crop_frames + 1))
                piece = clip[start:start + config.crop_frames]
                offset = rng.integers(0, config.crop_frames - len(piece) + 1)
                batch[row, offset:offset + len(piece)] = piece
                for _ in range(2):
                    t, width = rng.integers(0, config.crop_frames), rng.integers(0, 25)
                    batch[row, t:t + width] = 0.0
                band = rng.integers(0, batch.shape[2] - 8)
                batch[row, :, band:band + rng.integers(0, 8)] = 0.0
            batch += rng.normal(0, 0.05, batch.shape).astype(np.float32)
            return batch, targets[chosen], weights[chosen]

    return Crops()


def fit_speech_cnn(train: tuple[list[np.ndarray], list[str], list[str]], validation: dict[str, tuple],
                   *, config: SpeechCnnConfig, out_dir: Path):
    """Train on normalised features; keep the epoch with the best mean validation UAR over the corpora.

    ``train`` is (features, labels, corpora); ``validation`` maps corpus to (features, labels).
    """
    import keras

    keras.utils.set_random_seed(config.seed)
    features, labels, corpora_of = train
    targets = np.array([LABEL_INDEX[label] for label in labels])
    model = build_speech_cnn(config, features=features[0].shape[1])
    steps = int(np.ceil(len(features) / config.batch_size)) * config.epochs
    model.compile(optimizer=keras.optimizers.AdamW(keras.optimizers.schedules.CosineDecay(
        config.learning_rate, steps, warmup_target=None), weight_decay=config.weight_decay),
        loss="sparse_categorical_crossentropy")
    best_path, best_score = out_dir / "speech_cnn.weights.h5", -1.0
    out_dir.mkdir(parents=True, exist_ok=True)

    class SelectOnUar(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            nonlocal best_score
            scores = [uar(y, [EMOTIONS[i] for i in _predict(model, x).argmax(1)]) for x, y in validation.values()]
            score = float(np.mean(scores))
            print(f"epoch {epoch + 1}: validation UAR {' / '.join(f'{s:.3f}' for s in scores)}", flush=True)
            if score > best_score:
                best_score = score
                model.save_weights(str(best_path))

    model.fit(_speech_batches(features, targets, balanced_weights(labels, corpora_of), config),
              epochs=config.epochs, verbose=0, callbacks=[SelectOnUar()])
    model.load_weights(str(best_path))
    return model, best_score


def _predict(model, features: Sequence[np.ndarray]) -> np.ndarray:
    """Probabilities per clip, each clip whole (one forward pass each: lengths differ)."""
    return np.concatenate([model.predict_on_batch(f[None]) for f in features])


SPEECH_TERMS = [
    {"name": "RAVDESS (speech)", "citation": "Livingstone & Russo, The Ryerson Audio-Visual Database of Emotional "
     "Speech and Song, PLoS ONE 2018", "terms": "CC BY-NC-SA 4.0"},
    {"name": "Berlin EmoDB", "citation": "Burkhardt et al., A Database of German Emotional Speech, Interspeech "
     "2005", "terms": "research use"},
]


def export_speech_cnn(model, path: Path) -> None:
    """ONNX with a free time axis, so whole segments of any length go in."""
    from emotion_core.training.export import export_onnx

    export_onnx(model, np.zeros((1, 200, N_FEATURES), dtype=np.float32), path, input_name="mfcc",
                free_axes={1: "frames"})


N_FEATURES = 120


@dataclass(frozen=True)
class FunctionalsConfig:
    """The classical arm's settings; all go into the model card."""

    # Extra copies of each training clip. Chosen by speaker-grouped cross-validation over the train and validation
    # speakers (folds of 5 RAVDESS actors and 2 EmoDB speakers; mean UAR): none 0.692, (0.9, 1.1) 0.707, these six
    # 0.716, these and (0.8, 1.2) 0.707.
    speed_factors: tuple[float, ...] = (0.85, 0.9, 0.95, 1.05, 1.1, 1.15)
    c_grid: tuple[float, ...] = (0.003, 0.01)  # inverse L2 strength, chosen by cross-validation
    folds: int = 4  # speaker-grouped folds over the train and validation speakers


@dataclass
class FunctionalsData:
    """ComParE functionals of every clip at speed 1 and at each perturbation factor, with the clips' facts."""

    clips: list[SpeechClip]
    by_speed: dict[float, np.ndarray]

    def rows(self, split: str | tuple[str, ...], corpus: str | None = None) -> np.ndarray:
        splits = (split,) if isinstance(split, str) else split
        return np.array([i for i, c in enumerate(self.clips) if c.label and c.split in splits
                         and (corpus is None or c.corpus == corpus)], dtype=int)

    def labels(self, rows: np.ndarray) -> list[str]:
        return [self.clips[i].label for i in rows]

    def speakers(self, rows: np.ndarray) -> np.ndarray:
        return np.array([f"{self.clips[i].corpus}-{self.clips[i].speaker}" for i in rows])

    def features(self, rows: np.ndarray, factor: float = 1.0, *, centred: str | None = None) -> np.ndarray:
        """Functionals of ``rows`` at one speed. ``centred="together"``: minus the mean of the same speaker's
        rows (training, where each speed of a speaker is a speaker of its own); ``"others"``: minus the mean of
        the same speaker's other rows, as a calibrated prediction sees it (never its own clip)."""
        features = self.by_speed[factor][rows]
        if centred is None:
            return features
        out = np.empty_like(features)
        speakers = self.speakers(rows)
        for speaker in np.unique(speakers):
            members = np.flatnonzero(speakers == speaker)
            total = features[members].sum(0)
            if centred == "together":
                out[members] = features[members] - total / len(members)
            else:
                out[members] = features[members] - (total - features[members]) / max(1, len(members) - 1)
        return out

    def fit(self, rows: np.ndarray, *, c: float, factors: Sequence[float], centred: bool = False):
        """Logistic regression on ``rows`` and their speed-perturbed copies; classes are label indices.

        ``centred``: each speaker's features minus that speaker's mean (the calibrated model)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        copies = (1.0, *factors)
        features = np.concatenate([self.features(rows, f, centred="together" if centred else None) for f in copies])
        labels = self.labels(rows) * len(copies)
        weights = balanced_weights(labels, [self.clips[i].corpus for i in rows] * len(copies))
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))
        return model.fit(features, [LABEL_INDEX[label] for label in labels], logisticregression__sample_weight=weights)

    def predict(self, model, rows: np.ndarray, *, centred: bool = False) -> list[str]:
        return [EMOTIONS[i] for i in model.predict(self.features(rows, centred="others" if centred else None))]


def choose_regularisation(data: FunctionalsData, config: FunctionalsConfig, *,
                          centred: bool = False) -> tuple[float, dict[str, Any]]:
    """The C with the best mean UAR over the corpora, out of fold, with folds grouped by speaker over the train
    and validation speakers (two validation speakers a corpus are too few to choose on). ``centred``: the
    calibrated model, each held-out clip centred on its speaker's other clips."""
    from sklearn.model_selection import GroupKFold

    from emotion_core.progress import progress

    rows = data.rows(("train", "validation"))
    folds = list(GroupKFold(n_splits=config.folds).split(rows, groups=data.speakers(rows)))
    scores = {}
    for c in progress(config.c_grid, desc="cross-validating C", unit="C"):
        predicted = np.empty(len(rows), dtype=object)
        for fit_part, held_out in folds:
            model = data.fit(rows[fit_part], c=c, factors=config.speed_factors, centred=centred)
            predicted[held_out] = data.predict(model, rows[held_out], centred=centred)
        truth = np.array(data.labels(rows))
        corpora = np.array([data.clips[i].corpus for i in rows])
        scores[c] = {corpus: uar(truth[corpora == corpus], predicted[corpora == corpus])
                     for corpus in ("ravdess", "emodb")}
    best = max(scores, key=lambda c: np.mean(list(scores[c].values())))
    return best, {"folds": config.folds, "grouped_by": "speaker",
                  "mean_uar_by_c": {f"{c:g}": round(float(np.mean(list(v.values()))), 4) for c, v in scores.items()},
                  "chosen_c": best, "uar_of_chosen": {k: round(v, 4) for k, v in scores[best].items()},
                  "mean_uar_of_chosen": round(float(np.mean(list(scores[best].values()))), 4)}


def export_functionals_classifier(model, path: Path) -> None:
    """ONNX: ComParE functionals ``(batch, 6373)`` in, label index and probabilities over the canonical labels out."""
    from skl2onnx import to_onnx

    if list(model[-1].classes_) != list(range(len(EMOTIONS))):  # the predictor reads the columns in this order
        raise ValueError(f"the classifier must know all {len(EMOTIONS)} canonical labels, in order")
    sample = np.zeros((1, model[0].n_features_in_), np.float32)
    path.write_bytes(to_onnx(model, sample, options={id(model[-1]): {"zipmap": False}},
                             target_opset=17).SerializeToString())


def train_speech(data_dir: str | Path, *, out_dir: str | Path, config: SpeechCnnConfig = SpeechCnnConfig(),
                 functionals_config: FunctionalsConfig = FunctionalsConfig(), command: str = "",
                 cache_dir: Path | None = None) -> dict[str, Any]:
    """Train both arms on the train speakers, ship the one better on the validation speakers, evaluate both on
    the test speakers of each corpus, run the cross-corpus checks, and write the card into ``out_dir``."""
    from datetime import datetime, timezone

    from emotion_core.modelcard import write_card
    from emotion_core.speech.predictor import SPEECH_MODEL

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    clips = corpus_clips(data_dir)
    tests = {corpus: _test_files(clips, corpus) for corpus in ("ravdess", "emodb")}

    cnn = _cnn_arm(clips, config, out_dir, cache_dir, tests, model_id=f"speech-cnn-ravdess-emodb-{started:%Y%m%d}")
    functionals = _functionals_arm(clips, functionals_config, out_dir, cache_dir, tests,
                                   model_id=f"speech-compare-lr-ravdess-emodb-{started:%Y%m%d}")
    arms = {"cnn_mfcc": cnn, "compare_logistic_regression": functionals}
    shipped_name = max(arms, key=lambda name: arms[name]["report"]["validation_mean_uar"])
    shipped = arms[shipped_name]
    shutil.copyfile(shipped["model_path"], out_dir / f"{SPEECH_MODEL}.onnx")
    card = {
        "model_id": shipped["model_id"],
        "task": "speech emotion",
        "modality": "speech",
        "file": f"{SPEECH_MODEL}.onnx",
        "labels": list(EMOTIONS),
        "architecture": shipped["architecture"],
        "input": shipped["input"],
        "inference": {"runtime": "onnxruntime", "segments": "energy voice-activity detection, segments of at most "
                      "6 s, each classified", "utterance": "duration-weighted mean of the segments"},
        **_data_sections(clips),
        "training": {"command": command, "date": started.isoformat(timespec="seconds"),
                     "minutes": round((datetime.now(timezone.utc) - started).total_seconds() / 60, 1),
                     "shipped_arm": shipped_name,
                     "arm_choice": "higher mean UAR over the two corpora' validation speakers, each arm fitted on "
                                   "the train speakers only",
                     **shipped["training"]},
        "comparison": {"arms": {name: arm["report"] for name, arm in arms.items()}},
        "cross_corpus": _cross_corpus(functionals["data"], functionals["c"], functionals_config),
        "metrics": {**shipped["metrics"],
                    "evaluation_command": "python -m emotion_core evaluate speech --corpus ravdess "
                                          "--data ../shared/data/speech --json OUT"},
    }
    write_card(out_dir, SPEECH_MODEL, card)
    _calibrated_model(clips, functionals["data"], functionals_config, out_dir, tests, started=started,
                      command=command, uncalibrated=card)
    return card


def _data_sections(clips: Sequence[SpeechClip]) -> dict[str, Any]:
    return {
        "dataset": {"sets": SPEECH_TERMS,
                    "label_mapping": "RAVDESS calm -> neutral (7 canonical classes); EmoDB boredom has no canonical "
                                     "counterpart and is left out (counted under skipped)",
                    "split": split_summary(clips)},
        "test_speakers": {corpus: list(SPLIT["test"][corpus]) for corpus in ("ravdess", "emodb")},
    }


CALIBRATION_CURVE = (5, 10, 20)  # recordings a test profile is built from, for the card's curve


def _calibrated_model(clips, data: FunctionalsData, config: FunctionalsConfig, out_dir: Path,
                      tests: dict[str, TestFiles], *, started, command: str, uncalibrated: dict[str, Any]) -> None:
    """The ComParE recipe on speaker-centred features (each training speaker, at each speed, minus their own
    mean), written with its own card: the model the app uses when given recordings to calibrate on.

    Its C is chosen by the same grouped cross-validation, each held-out clip centred on its speaker's other
    clips. Test figures: profiles from each test speaker's other test files (all, then 5, 10 and 20 of them)."""
    from datetime import datetime, timezone

    from emotion_core.modelcard import write_card
    from emotion_core.speech.predictor import CALIBRATED_SPEECH_MODEL, MIN_CALIBRATION_SEGMENTS, functionals_model_input

    c, cross_validation = choose_regularisation(data, config, centred=True)
    model = data.fit(data.rows(("train", "validation")), c=c, factors=config.speed_factors, centred=True)
    model_path = out_dir / f"{CALIBRATED_SPEECH_MODEL}.onnx"
    export_functionals_classifier(model, model_path)
    model_id = f"speech-compare-lr-calibrated-ravdess-emodb-{started:%Y%m%d}"
    measure = functools.partial(_test_reports, model_path, model_id, functionals_model_input, tests,
                                speaker_centred=True)
    metrics = measure()
    curve = {str(n): {name: _summary(r) for name, r in measure(calibration_recordings=n).items()}
             for n in CALIBRATION_CURVE}
    card = {
        "model_id": model_id,
        "task": "speech emotion",
        "modality": "speech",
        "file": f"{CALIBRATED_SPEECH_MODEL}.onnx",
        "labels": list(EMOTIONS),
        "architecture": "openSMILE ComParE 2016 functionals (6,373) minus the speaker's mean, standardised, "
                        f"multinomial logistic regression (L2, C={c:g})",
        "input": {**uncalibrated["input"], "speaker_centred": True,
                  "profile": "mean functionals of the voiced segments of other recordings of the same speaker, any "
                             f"emotion, at least {MIN_CALIBRATION_SEGMENTS} segments "
                             "(emotion_core.speech.predictor.speaker_profile); labels are never needed"},
        "inference": uncalibrated["inference"],
        **_data_sections(clips),
        "training": {"command": command, "date": started.isoformat(timespec="seconds"),
                     "minutes": round((datetime.now(timezone.utc) - started).total_seconds() / 60, 1),
                     "config": asdict(config), "fitted_on": "train and validation speakers",
                     "centring": "each training speaker's functionals, at each speed, minus that speaker's mean at "
                                 "that speed (a sped-up voice is a voice of its own)",
                     "held_out_mean_uar": cross_validation["mean_uar_of_chosen"],
                     "held_out_protocol": f"mean UAR over the corpora, out of fold, {config.folds} folds grouped by "
                                          "speaker, each held-out clip centred on its speaker's other clips",
                     "cross_validation": cross_validation,
                     "sample_weights": "each corpus half the weight; classes by inverse frequency"},
        "calibration_curve": {"protocol": "test UAR when each test file's profile comes from this many other test "
                                          "files of its speaker, drawn at random (seed 0)",
                              "recordings": curve},
        "uncalibrated_model": {"model_id": uncalibrated["model_id"],
                               **{name: _summary(uncalibrated["metrics"][name]) for name in metrics}},
        "metrics": {**metrics,
                    "evaluation_command": "python -m emotion_core evaluate speech --corpus emodb --calibrate all "
                                          "--data ../shared/data/speech --json OUT"},
    }
    write_card(out_dir, CALIBRATED_SPEECH_MODEL, card)


@dataclass(frozen=True)
class TestFiles:
    """One corpus' test files as ``evaluate speech --corpus`` reads them."""

    paths: list[Path]
    labels: list[str]
    speakers: list[str]
    skipped: list[dict[str, str]]


def _test_files(clips: Sequence[SpeechClip], corpus: str) -> TestFiles:
    chosen = [c for c in clips if c.split == "test" and c.corpus == corpus]
    scored = [c for c in chosen if c.label]
    return TestFiles([c.path for c in scored], [c.label for c in scored], [c.speaker for c in scored],
                     [{"path": str(c.path), "reason": f"label {c.raw_label!r} has no canonical counterpart"}
                      for c in chosen if c.label is None])


def _test_reports(model_path: Path, model_id: str, model_input, tests: dict[str, TestFiles], *,
                  calibration_recordings: int | None = None, speaker_centred: bool = False) -> dict[str, Any]:
    """The model file measured on each corpus' test speakers, as `evaluate speech --corpus` measures it (the
    calibrated model with profiles from each speaker's other test files, all or ``calibration_recordings``)."""
    from emotion_core.evaluation import evaluate_speech
    from emotion_core.runtime import load_onnx_session
    from emotion_core.speech.predictor import SpeechPredictor

    predictor = SpeechPredictor(session=load_onnx_session(model_path), model_id=model_id, model_input=model_input,
                                speaker_centred=speaker_centred)
    return {f"{corpus}_test": evaluate_speech(files.paths, files.labels, predictor, skipped=files.skipped,
                                              speakers=files.speakers if speaker_centred else None,
                                              calibration_recordings=calibration_recordings, progress=True)
            for corpus, files in tests.items()}


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in ("n", "accuracy", "macro_f1", "uar")}


def _cnn_arm(clips, config: SpeechCnnConfig, out_dir: Path, cache_dir: Path | None, tests, *, model_id: str):
    """The seed's CNN over MFCC frames: train speakers, epoch chosen on the validation speakers."""
    from emotion_core.speech.predictor import mfcc_model_input

    features = clip_features(clips, cache=(cache_dir / "speech_mfcc.npz") if cache_dir else None)
    train = [(f, c) for c, f in zip(clips, features) if c.split == "train" and c.label]
    mean, std = normalisation([f for f, _ in train])
    normalised = [(f - mean) / std for f in features]

    def part(split: str, corpus: str | None = None):
        chosen = [(n, c) for c, n in zip(clips, normalised)
                  if c.split == split and c.label and (corpus is None or c.corpus == corpus)]
        return [n for n, _ in chosen], [c.label for _, c in chosen], [c.corpus for _, c in chosen]

    validation = {corpus: part("validation", corpus)[:2] for corpus in ("ravdess", "emodb")}
    model, best_validation = fit_speech_cnn(part("train"), validation, config=config, out_dir=out_dir / "cnn")
    model_path = out_dir / "cnn" / "speech_cnn.onnx"
    export_speech_cnn(model, model_path)
    metrics = _test_reports(model_path, model_id, mfcc_model_input(mean, std), tests)
    return {
        "model_id": model_id, "model_path": model_path, "metrics": metrics,
        "architecture": f"1-D CNN over MFCC frames: conv blocks {list(config.filters)}, mean+max over time, softmax",
        "input": {"kind": "mfcc_frames",
                  "features": "40 MFCC + deltas + delta-deltas, 25 ms frames every 10 ms, 16 kHz mono "
                              "(emotion_core.speech.predictor.mfcc_features)",
                  "normalisation": {"mean": [round(float(v), 6) for v in mean],
                                    "std": [round(float(v), 6) for v in std]}},
        "training": {"config": asdict(config), "fitted_on": "train speakers",
                     "held_out_mean_uar": round(best_validation, 4),
                     "held_out_protocol": "mean UAR over the corpora's validation speakers, best epoch",
                     "sample_weights": "each corpus half the weight; classes by inverse frequency"},
        "report": {"model": "1-D CNN over MFCC frames (seed 001), Keras", "fitted_on": "train speakers",
                   "validation_mean_uar": round(best_validation, 4),
                   **{name: _summary(r) for name, r in metrics.items()}},
    }


def _functionals_arm(clips, config: FunctionalsConfig, out_dir: Path, cache_dir: Path | None, tests, *,
                     model_id: str):
    """ComParE functionals + logistic regression: C by grouped cross-validation, a train-speaker fit for the arm
    choice, and the train+validation fit that ships."""
    from importlib.metadata import version

    from emotion_core.speech.predictor import functionals_model_input

    data = FunctionalsData(clips, clip_functionals(
        clips, (1.0, *config.speed_factors), cache=(cache_dir / "speech_compare.npz") if cache_dir else None))
    c, cross_validation = choose_regularisation(data, config)
    on_train = data.fit(data.rows("train"), c=c, factors=config.speed_factors)
    validation_uar = {corpus: uar(data.labels(data.rows("validation", corpus)),
                                  data.predict(on_train, data.rows("validation", corpus)))
                      for corpus in ("ravdess", "emodb")}
    arm_dir = out_dir / "functionals"
    arm_dir.mkdir(parents=True, exist_ok=True)
    export_functionals_classifier(on_train, arm_dir / "train_speakers.onnx")
    train_only = _test_reports(arm_dir / "train_speakers.onnx", model_id, functionals_model_input, tests)
    final = data.fit(data.rows(("train", "validation")), c=c, factors=config.speed_factors)
    model_path = arm_dir / "speech_compare_lr.onnx"
    export_functionals_classifier(final, model_path)
    metrics = _test_reports(model_path, model_id, functionals_model_input, tests)
    return {
        "model_id": model_id, "model_path": model_path, "metrics": metrics, "data": data, "c": c,
        "architecture": "openSMILE ComParE 2016 functionals (6,373), standardised, multinomial logistic regression "
                        f"(L2, C={c:g})",
        "input": {"kind": "compare_functionals",
                  "features": "openSMILE ComParE 2016 functionals of each voiced segment, 16 kHz mono "
                              "(emotion_core.speech.predictor.compare_functionals); standardisation is inside the "
                              "ONNX graph",
                  "extractor": f"opensmile {version('opensmile')} (audEERING research licence: non-commercial use)"},
        "training": {"config": asdict(config), "fitted_on": "train and validation speakers",
                     "held_out_mean_uar": cross_validation["mean_uar_of_chosen"],
                     "held_out_protocol": f"mean UAR over the corpora, out of fold, {config.folds} folds grouped by "
                                          "speaker over the train and validation speakers",
                     "cross_validation": cross_validation,
                     "augmentation": f"speed perturbation: each training clip also at {list(config.speed_factors)} "
                                     "times its speed",
                     "sample_weights": "each corpus half the weight; classes by inverse frequency"},
        "report": {"model": "ComParE 2016 functionals (openSMILE) + logistic regression, scikit-learn",
                   "fitted_on": "train speakers (for the arm choice; the shipped fit adds the validation speakers)",
                   "validation_mean_uar": round(float(np.mean(list(validation_uar.values()))), 4),
                   "cross_validated_mean_uar": cross_validation["mean_uar_of_chosen"],
                   **{name: _summary(r) for name, r in train_only.items()},
                   "refitted_on_train_and_validation": {name: _summary(r) for name, r in metrics.items()}},
    }


def _cross_corpus(data: FunctionalsData, c: float, config: FunctionalsConfig) -> dict[str, Any]:
    """The classical recipe trained on one corpus' train and validation speakers, tested on the other corpus'
    test speakers (whole clips)."""
    out = {}
    for source, target in (("ravdess", "emodb"), ("emodb", "ravdess")):
        model = data.fit(data.rows(("train", "validation"), source), c=c, factors=config.speed_factors)
        test = data.rows("test", target)
        report = classification_report(data.labels(test), data.predict(model, test))
        out[f"train_{source}_test_{target}"] = _summary(report)
    return out
