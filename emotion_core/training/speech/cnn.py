"""The seed paper's deep arm (001): a 1-D CNN over MFCC frames, trained on the train speakers, its epoch chosen on
the validation speakers, exported to ONNX.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from emotion_core.labels import EMOTIONS
from emotion_core.training.speech.data import LABEL_INDEX, balanced_weights, clip_features, uar
from emotion_core.training.speech.measure import summary_figures, test_reports


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


def export_speech_cnn(model, path: Path) -> None:
    """ONNX with a free time axis, so whole segments of any length go in."""
    from emotion_core.training.export import export_onnx

    export_onnx(model, np.zeros((1, 200, N_FEATURES), dtype=np.float32), path, input_name="mfcc",
                free_axes={1: "frames"})


N_FEATURES = 120


def cnn_arm(clips, config: SpeechCnnConfig, out_dir: Path, cache_dir: Path | None, tests, *, model_id: str):
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
    metrics = test_reports(model_path, model_id, mfcc_model_input(mean, std), tests)
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
                   **{name: summary_figures(r) for name, r in metrics.items()}},
    }
