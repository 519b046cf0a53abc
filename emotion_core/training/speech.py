"""Train and compare speech-emotion models on RAVDESS and EmoDB, speaker-independently.

Every clip's speaker is in exactly one of train, validation and test (:data:`SPLIT`). Two models are compared
on the same test speakers: a 1-D CNN over MFCC frames (the seed's deep model) and a classical baseline, an SVM
on utterance-level statistics of the same features. The CNN is exported (ONNX reads whole segments of any
length); both models' validation and test figures go into the model card, so the choice can be checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.errors import InvalidInputError
from emotion_core.evaluation import classification_report
from emotion_core.labels import EMODB_EMOTION_CODES, EMOTIONS, RAVDESS_EMOTION_CODES, UnknownLabelError, to_canonical

# Fixed speaker-independent split, by the corpora's own speaker ids. RAVDESS: odd actors are male.
# EmoDB speakers 03, 10, 11, 12, 15 are male and 08, 09, 13, 14, 16 female.
SPLIT: dict[str, dict[str, tuple[str, ...]]] = {
    "test": {"ravdess": ("21", "22", "23", "24"), "emodb": ("15", "16")},
    "validation": {"ravdess": ("19", "20"), "emodb": ("12", "14")},
}

_RAVDESS_NAME = re.compile(r"^03-01-(\d\d)-\d\d-\d\d-\d\d-(\d\d)$")
_EMODB_NAME = re.compile(r"^(\d\d)[a-z]\d\d([A-Z])[a-z]$")


@dataclass(frozen=True)
class SpeechClip:
    """One labelled recording of a corpus."""

    path: Path
    corpus: str
    speaker: str
    raw_label: str
    label: str | None  # canonical, or None when the corpus label has no counterpart (EmoDB's boredom)

    @property
    def split(self) -> str:
        for name, speakers in SPLIT.items():
            if self.speaker in speakers.get(self.corpus, ()):
                return name
        return "train"


def corpus_clips(data_dir: str | Path) -> list[SpeechClip]:
    """Every RAVDESS and EmoDB clip under ``data_dir`` (``ravdess/Actor_NN/*.flac``, ``emodb/*.flac``)."""
    data_dir = Path(data_dir)
    clips = []
    for path in sorted(data_dir.glob("ravdess/Actor_*/*")):
        match = _RAVDESS_NAME.match(path.stem)
        if match:
            clips.append(_clip(path, "ravdess", match.group(2), RAVDESS_EMOTION_CODES[match.group(1)]))
    for path in sorted(data_dir.glob("emodb/*")):
        match = _EMODB_NAME.match(path.stem)
        if match:
            clips.append(_clip(path, "emodb", match.group(1), EMODB_EMOTION_CODES[match.group(2)]))
    if not clips:
        raise InvalidInputError(f"data: no RAVDESS or EmoDB clips under {data_dir}.")
    return clips


def _clip(path: Path, corpus: str, speaker: str, raw_label: str) -> SpeechClip:
    try:
        label = to_canonical(raw_label, dataset=corpus)
    except UnknownLabelError:
        label = None
    return SpeechClip(path=path, corpus=corpus, speaker=speaker, raw_label=raw_label, label=label)


def clip_features(clips: Sequence[SpeechClip], *, cache: Path | None = None) -> list[np.ndarray]:
    """MFCC features of each clip's voiced part (first to last voiced segment), cached when asked."""
    from emotion_core.audio import decode_audio
    from emotion_core.progress import progress
    from emotion_core.speech import HOP, mfcc_features, voiced_segments

    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as stored:
            if list(stored["paths"]) == [str(c.path) for c in clips]:
                return np.split(stored["frames"], stored["offsets"][1:-1])
    features = []
    for clip in progress(clips, desc="features", unit="clip"):
        samples = decode_audio(clip.path, name=clip.path.name).samples
        segments = voiced_segments(samples)
        if segments:
            samples = samples[int(segments[0].start_s * 16000):int(segments[-1].end_s * 16000) + HOP]
        features.append(mfcc_features(samples))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        offsets = np.cumsum([0] + [len(f) for f in features])
        np.savez(cache, paths=np.array([str(c.path) for c in clips]), frames=np.concatenate(features),
                 offsets=offsets)
    return features


def utterance_statistics(frames: np.ndarray) -> np.ndarray:
    """Fixed-length summary of a clip for the classical baseline: mean, std and 10/50/90th percentiles."""
    return np.concatenate([frames.mean(0), frames.std(0), *np.percentile(frames, [10, 50, 90], axis=0)])


def uar(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    return classification_report(y_true, y_pred)["uar"]


def split_summary(clips: Sequence[SpeechClip]) -> dict[str, Any]:
    """Speakers and clip counts per split and corpus, for the model card."""
    summary: dict[str, Any] = {}
    for split in ("train", "validation", "test"):
        for corpus in ("ravdess", "emodb"):
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


def _svm(train_x, train_y, validation: dict[str, tuple]) -> tuple[Any, float, float]:
    """The classical baseline: utterance statistics, standardised, RBF SVM; C chosen on validation UAR."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    def stats(features):
        return np.stack([utterance_statistics(f) for f in features])

    best = (None, -1.0, 0.0)
    for c in (1.0, 3.0, 10.0, 30.0):
        model = make_pipeline(StandardScaler(), SVC(C=c, class_weight="balanced")).fit(stats(train_x), train_y)
        score = float(np.mean([uar(y, model.predict(stats(x))) for x, y in validation.values()]))
        if score > best[1]:
            best = (model, score, c)
    model, score, c = best
    return (lambda features: model.predict(stats(features))), score, c


def train_speech(data_dir: str | Path, *, out_dir: str | Path, config: SpeechCnnConfig = SpeechCnnConfig(),
                 command: str = "", cache_dir: Path | None = None) -> dict[str, Any]:
    """Train the CNN and the SVM baseline on the train speakers, select on validation, export the CNN, evaluate
    both on the test speakers of each corpus, run the cross-corpus checks, and write the card."""
    from datetime import datetime, timezone

    from emotion_core.evaluation import evaluate_speech
    from emotion_core.modelcard import write_card
    from emotion_core.runtime import load_onnx_session
    from emotion_core.speech import SPEECH_MODEL, SpeechPredictor

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = corpus_clips(data_dir)
    features = clip_features(clips, cache=(cache_dir / "speech_mfcc.npz") if cache_dir else None)
    train = [(f, c) for c, f in zip(clips, features) if c.split == "train" and c.label]
    mean, std = normalisation([f for f, _ in train])
    normalised = [(f - mean) / std for f in features]

    def part(split: str, corpus: str | None = None):
        chosen = [(n, c) for c, n in zip(clips, normalised)
                  if c.split == split and c.label and (corpus is None or c.corpus == corpus)]
        return [n for n, _ in chosen], [c.label for _, c in chosen], [c.corpus for _, c in chosen]

    train_x, train_y, train_corpora = part("train")
    validation = {corpus: part("validation", corpus)[:2] for corpus in ("ravdess", "emodb")}
    started = datetime.now(timezone.utc)
    model, best_validation = fit_speech_cnn((train_x, train_y, train_corpora), validation, config=config,
                                            out_dir=out_dir)
    minutes = (datetime.now(timezone.utc) - started).total_seconds() / 60
    export_speech_cnn(model, out_dir / f"{SPEECH_MODEL}.onnx")
    model_id = f"speech-cnn-ravdess-emodb-{started:%Y%m%d}"
    predictor = SpeechPredictor(session=load_onnx_session(out_dir / f"{SPEECH_MODEL}.onnx"), model_id=model_id,
                                mean=mean, std=std)

    def test_files(corpus: str):
        chosen = [c for c in clips if c.split == "test" and c.corpus == corpus]
        return ([c.path for c in chosen if c.label], [c.label for c in chosen if c.label],
                [{"path": str(c.path), "reason": f"label {c.raw_label!r} has no canonical counterpart"}
                 for c in chosen if c.label is None])

    metrics = {}
    for corpus in ("ravdess", "emodb"):
        paths, labels, skipped = test_files(corpus)
        metrics[f"{corpus}_test"] = evaluate_speech(paths, labels, predictor, skipped=skipped, progress=True)

    svm_predict, svm_validation, svm_c = _svm(train_x, train_y, validation)
    baseline = {"model": f"utterance statistics (mean, std, p10/50/90 of MFCC+deltas) + RBF SVM, C={svm_c}",
                "validation_mean_uar": round(svm_validation, 4)}
    for corpus in ("ravdess", "emodb"):
        x, y, _ = part("test", corpus)
        baseline[f"{corpus}_test"] = {k: v for k, v in classification_report(y, list(svm_predict(x))).items()
                                      if k in ("n", "accuracy", "macro_f1", "uar", "per_class")}
    cross = _cross_corpus(part, config, out_dir)
    card = {
        "model_id": model_id,
        "task": "speech emotion",
        "modality": "speech",
        "file": f"{SPEECH_MODEL}.onnx",
        "labels": list(EMOTIONS),
        "architecture": f"1-D CNN over MFCC frames: conv blocks {list(config.filters)}, mean+max over time, softmax",
        "input": {"features": "40 MFCC + deltas + delta-deltas, 25 ms frames every 10 ms, 16 kHz mono "
                              "(emotion_core.speech.mfcc_features)",
                  "normalisation": {"mean": [round(float(v), 6) for v in mean],
                                    "std": [round(float(v), 6) for v in std]},
                  "segments": "energy voice-activity detection, segments of at most 6 s"},
        "inference": {"runtime": "onnxruntime", "utterance": "duration-weighted mean of the segments"},
        "dataset": {"sets": SPEECH_TERMS,
                    "label_mapping": "RAVDESS calm -> neutral (7 canonical classes); EmoDB boredom has no canonical "
                                     "counterpart and is left out (counted under skipped)",
                    "split": split_summary(clips)},
        "test_speakers": {corpus: list(SPLIT["test"][corpus]) for corpus in ("ravdess", "emodb")},
        "training": {"command": command, "date": started.isoformat(timespec="seconds"), "minutes": round(minutes, 1),
                     "config": {k: getattr(config, k) for k in config.__dataclass_fields__},
                     "best_validation_mean_uar": round(best_validation, 4),
                     "sample_weights": "each corpus half the weight; classes by inverse frequency"},
        "baseline": baseline,
        "cross_corpus": cross,
        "metrics": {**metrics, "evaluation_command": "python -m emotion_core evaluate speech --corpus ravdess "
                                                     "--data ../shared/data/speech --json OUT"},
    }
    write_card(out_dir, SPEECH_MODEL, card)
    return card


def _cross_corpus(part, config: SpeechCnnConfig, out_dir: Path) -> dict[str, Any]:
    """Train on one corpus' train speakers, test on the other corpus' test speakers (same CNN recipe)."""
    out = {}
    for source, target in (("ravdess", "emodb"), ("emodb", "ravdess")):
        train_x, train_y, train_c = part("train", source)
        validation = {source: part("validation", source)[:2]}
        model, _ = fit_speech_cnn((train_x, train_y, train_c), validation, config=config,
                                  out_dir=out_dir / f"cross_{source}")
        test_x, test_y, _ = part("test", target)
        predicted = [EMOTIONS[i] for i in _predict(model, test_x).argmax(1)]
        report = classification_report(test_y, predicted)
        out[f"train_{source}_test_{target}"] = {k: report[k] for k in ("n", "accuracy", "macro_f1", "uar")}
    return out
