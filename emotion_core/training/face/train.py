"""Train the face-expression model on FER-2013 with Keras, export it to ONNX, and write its model card.

Protocol: fit on ``Training_*``, keep the epoch with the best ``PublicTest_*`` accuracy, report on
``PrivateTest_*`` with the same evaluation code as ``python -m emotion_core evaluate face``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.datasets import find_labelled_files
from emotion_core.errors import InvalidInputError
from emotion_core.face.alignment import FACE_SIZE, prepare_face_crop, to_gray
from emotion_core.labels import EMOTIONS, label_index

TRAINING_DETECTOR = "blazeface"
"""The detector whose keypoints level the eyes of every face that training, calibration and the recorded evaluations
prepare. ``evaluate face`` defaults to the photos' detector (MTCNN), whose keypoints align faces a little
differently, so the commands recorded in a card name this one."""

PREPROCESS_VERSION = 1
"""Bump when the face pre-processing changes, so cached training arrays are rebuilt."""

FER2013_TERMS = {
    "name": "FER-2013",
    "citation": "Goodfellow et al., Challenges in Representation Learning: A report on three machine learning "
                "contests, ICONIP 2013",
    "terms": "research use only (ICML 2013 workshop challenge data); not for commercial use",
}

FERPLUS_TERMS = {
    "name": "FER+ (crowd votes for FER-2013)",
    "citation": "Barsoum et al., Training Deep Networks for Facial Expression Recognition with Crowd-Sourced Label "
                "Distribution, ICMI 2016",
    "terms": "MIT licence (the votes); the pictures are FER-2013's. The copy used is github.com/tessav/crowd-emotion, "
             "data/FER2013{Train,Valid,Test}/label.csv, matched to FER-2013's files by their pixels",
}


@dataclass(frozen=True)
class FaceTrainingConfig:
    """Hyper-parameters of a training run; all of them go into the model card."""

    epochs: int = 50
    batch_size: int = 64
    learning_rate: float = 0.02
    weight_decay: float = 5e-3  # decoupled; about the classic L2 of 5e-4 under momentum 0.9
    label_smoothing: float = 0.1
    warmup_epochs: int = 2
    widths: tuple[int, ...] = (64, 128, 256, 512)
    dense_units: int = 256
    dropout: float = 0.5
    seed: int = 2013
    precision: str = "auto"  # "float32", "bfloat16" (mixed), or "auto": bfloat16 where the hardware has it
    limit: int | None = None  # use only N images of each split (smoke tests)
    max_minutes: float | None = None  # stop after the epoch that would otherwise overrun this budget
    init_weights: str | None = None  # start from these weights (a warm restart with a new schedule)
    architecture: str = "vgg"  # "vgg": the CNN above, from scratch; "mobilenet": ImageNet MobileNetV2, fine-tuned
    input_size: int = FACE_SIZE  # side of the grey face the model takes
    frozen_blocks: int = 4  # mobilenet: the stem and this many inverted-residual blocks keep their ImageNet weights
    #                         (0: only the stem, a single 3x3 convolution, stays as ImageNet trained it)
    rafdb_holdout: float = 0.1  # share of RAF-DB train (when given) kept out of training for selection
    ferplus_weight: float = 0.5  # with FER+ votes: their share in each FER-2013 training target, beside its label


ARCHITECTURES = ("vgg", "mobilenet")

RAFDB_TERMS = {
    "name": "RAF-DB (basic expressions)",
    "citation": "Li, Deng and Du, Reliable Crowdsourcing and Deep Locality-Preserving Learning for Expression "
                "Recognition in the Wild, CVPR 2017",
    "terms": "non-commercial research use only (RAF-DB licence); the copy used is the aligned 100x100 faces in "
             "github.com/koorosh-moaveninejad/Facial-Expression-Recognition, DATASET/{train,test}",
}


def split_files(data_dir: str | Path, prefix: str, *, limit: int | None = None,
                corpus: str = "fer2013") -> tuple[list[Path], list[str]]:
    """The image files of one split and their labels, in the order :func:`preprocess_split` returns them."""
    files = find_labelled_files(data_dir, suffixes=[".jpg", ".jpeg", ".png"], prefix=prefix, dataset=corpus)
    paths, labels = files.paths, files.labels
    if limit is not None:  # a seeded sample that keeps every class, for smoke tests
        chosen = sorted(np.random.default_rng(0).permutation(len(paths))[:limit])
        paths, labels = [paths[i] for i in chosen], [labels[i] for i in chosen]
    if not paths:
        raise InvalidInputError(f"data: no {corpus} images named {prefix}_* under {data_dir}.")
    return paths, labels


def preprocess_split(data_dir: str | Path, prefix: str, *, detector, cache_dir: str | Path | None = None,
                     limit: int | None = None, corpus: str = "fer2013",
                     size: int = FACE_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """The face crops of one split (FER-2013's ``Training``/``PublicTest``/``PrivateTest``, RAF-DB's
    ``train``/``test``) as model inputs ``(N, size, size)`` uint8 and label indices ``(N,)``.

    Each crop goes through :func:`emotion_core.face.predictor.locate_eyes_in_crop` and
    :func:`emotion_core.face.alignment.prepare_face_crop`, exactly as at inference. The arrays are cached in
    ``cache_dir``, keyed by the file list, the file sizes, the size and :data:`PREPROCESS_VERSION`.
    """
    from emotion_core.face.predictor import locate_eyes_in_crop
    from emotion_core.media import read_image
    from emotion_core.progress import progress

    paths, labels = split_files(data_dir, prefix, limit=limit, corpus=corpus)
    cache = None
    if cache_dir is not None:
        listing = "\n".join(f"{p.relative_to(data_dir)}:{p.stat().st_size}" for p in paths)
        key = hashlib.sha1(f"{PREPROCESS_VERSION}|{detector.name}|{size}|{listing}".encode()).hexdigest()[:12]
        cache = Path(cache_dir) / f"{corpus}_{prefix}_{size}_{key}.npz"
        if cache.is_file():
            with np.load(cache) as stored:
                return stored["faces"], stored["labels"]

    def prepare(path: Path) -> np.ndarray:
        gray = to_gray(read_image(path))
        return prepare_face_crop(gray, locate_eyes_in_crop(detector, gray), size=size)

    # ONNX Runtime and OpenCV release the GIL, so threads use every core.
    faces = np.empty((len(paths), size, size), dtype=np.uint8)
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        prepared = pool.map(prepare, paths, chunksize=64)
        for i, face in enumerate(progress(prepared, desc=f"preparing {prefix}", unit="img", total=len(paths))):
            faces[i] = face
    targets = np.array([label_index(label) for label in labels], dtype=np.int64)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cache, faces=faces, labels=targets)
    return faces, targets


def with_ferplus_targets(faces: np.ndarray, labels: np.ndarray, paths: list[Path], ferplus_dir: str | Path, *,
                         weight: float) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """FER-2013 training faces with soft targets: ``1 - weight`` of FER-2013's own label and ``weight`` of FER+'s
    vote shares. Pictures that FER+'s voters did not take for a face are dropped; those whose voters named no
    canonical emotion (contempt, unknown) keep their own label alone."""
    from emotion_core.face.ferplus import ferplus_votes, is_face, vote_shares

    votes = ferplus_votes(paths, ferplus_dir)
    keep = np.array([is_face(v) for v in votes])
    targets = np.eye(len(EMOTIONS), dtype=np.float32)[labels]
    unvoted = 0
    for i, v in enumerate(votes):
        shares = vote_shares(v)
        if shares is not None:
            targets[i] = (1 - weight) * targets[i] + weight * shares
        elif keep[i]:
            unvoted += 1
    counts = {"faces": int(keep.sum()), "dropped_not_a_face": int((~keep).sum()), "own_label_only": unvoted}
    return faces[keep], targets[keep], counts


def build_classifier(config: FaceTrainingConfig):
    """The network ``config.architecture`` names: :func:`build_vgg` or :func:`build_mobilenet`."""
    if config.architecture not in ARCHITECTURES:
        raise InvalidInputError(f"architecture: expected one of {', '.join(ARCHITECTURES)}, "
                                f"got {config.architecture!r}.")
    return build_mobilenet(config) if config.architecture == "mobilenet" else build_vgg(config)


def build_mobilenet(config: FaceTrainingConfig):
    """ImageNet MobileNetV2 (torchvision's weights) with a new 7-way head, for grey faces.

    Input ``(S, S, 1)`` float32 in [0, 1], as the VGG takes, so the predictor feeds both alike; the grey face is
    copied into three channels and normalised like ImageNet images inside the model. The stem and the first
    ``config.frozen_blocks`` blocks keep their ImageNet weights (generic edges and textures; freezing them makes
    a training step on a CPU about a third faster).
    """
    import keras
    from keras import layers

    from emotion_core.face.hybrid import IMAGENET_MEAN, IMAGENET_STD
    from emotion_core.training.face.mobilenet import imagenet_mobilenet_v2, with_fused_batch_norm

    if not 0 <= config.frozen_blocks <= 16:
        raise InvalidInputError(f"frozen_blocks: expected 0 to 16, got {config.frozen_blocks}.")
    size = config.input_size
    backbone = with_fused_batch_norm(imagenet_mobilenet_v2(input_size=size))
    first_trained = f"block_{config.frozen_blocks}_expand" if config.frozen_blocks else "expanded_conv_depthwise"
    for layer in backbone.layers:
        if layer.name == first_trained:
            break
        layer.trainable = False
    inputs = keras.Input((size, size, 1), name="face")
    x = layers.Concatenate()([inputs, inputs, inputs])
    x = layers.Normalization(mean=IMAGENET_MEAN.tolist(), variance=(IMAGENET_STD ** 2).tolist())(x)
    x = backbone(x)
    x = layers.Dropout(config.dropout)(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name="face_expression_mobilenet")


def build_vgg(config: FaceTrainingConfig):
    """The expression CNN: VGG-style stages of two 3x3 conv + BN + ReLU, max-pooling, a small dense head.

    Input ``(48, 48, 1)`` float32 in [0, 1]; output softmax over :data:`EMOTIONS`. Its width was chosen by
    measuring ONNX Runtime latency on a 2-core CPU (about 4 ms a face).
    """
    import keras
    from keras import layers

    from emotion_core.training.layers import FusedBatchNorm

    inputs = keras.Input((config.input_size, config.input_size, 1), name="face")
    x = inputs
    for stage, width in enumerate(config.widths):
        for _ in range(2):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
            x = FusedBatchNorm()(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
        x = layers.SpatialDropout2D(0.1 * (stage + 1) / len(config.widths))(x)
    x = layers.Flatten()(x)
    x = layers.Dense(config.dense_units, use_bias=False)(x)
    x = FusedBatchNorm()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(config.dropout)(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name="face_expression")


def class_weights(targets: np.ndarray) -> dict[int, float]:
    """Inverse square-root class frequencies, mean 1: lifts rare classes (disgust) without drowning the rest."""
    counts = np.bincount(targets, minlength=len(EMOTIONS)).astype(float)
    weights = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)
    weights *= (counts > 0).sum() / weights.sum()
    return {i: float(w) for i, w in enumerate(weights)}


def _to_inputs(faces: np.ndarray) -> np.ndarray:
    return faces.astype(np.float32)[..., None] / 255.0


def _time_limit(minutes: float):
    """A callback that ends training before an epoch would finish past ``minutes`` of wall time."""
    import keras

    class TimeLimit(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started = self.epoch_started = time.monotonic()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_started = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            now = time.monotonic()
            if now + (now - self.epoch_started) > self.started + minutes * 60:
                self.model.stop_training = True

    return TimeLimit()


def _use_bfloat16(precision: str) -> bool:
    """Mixed bfloat16 where the chip computes it natively (CUDA, or x86 with AVX512-BF16/AMX), else float32."""
    if precision != "auto":
        return precision == "bfloat16"
    import torch

    if torch.cuda.is_available():
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _accelerator() -> str:
    import keras

    if keras.backend.backend() == "torch":
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    return f"CPU ({platform.processor() or platform.machine()})"


def train_face(data_dir: str | Path, *, out_dir: str | Path, models_dir: str | Path,
               config: FaceTrainingConfig = FaceTrainingConfig(), cache_dir: str | Path | None = None,
               rafdb_dir: str | Path | None = None, ferplus_dir: str | Path | None = None,
               command: str = "") -> dict[str, Any]:
    """Train, select on PublicTest, export ONNX, evaluate on PrivateTest and write the card into ``out_dir``.

    With ``rafdb_dir`` (RAF-DB's ``DATASET`` folder), RAF-DB ``train`` joins the training data, except a seeded
    ``config.rafdb_holdout`` share that joins PublicTest for selection; RAF-DB ``test`` is never read here. With
    ``ferplus_dir`` (FER+'s ``data`` folder), FER-2013's training targets mix in FER+'s crowd votes
    (:func:`with_ferplus_targets`); selection and test keep FER-2013's own labels, the standard protocol.

    Training resumes from ``out_dir/backup`` if a previous run with the same ``out_dir`` was interrupted.

    Returns
    -------
    dict
        The model card that was written.
    """
    import keras

    from emotion_core.face.detection import load_detector
    from emotion_core.training.export import WEIGHT_BITS
    from emotion_core.training.face.augment import AugmentedFaces

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    accelerator = _accelerator()

    detector = load_detector(TRAINING_DETECTOR, models_dir=models_dir)
    prepared = {"detector": detector, "cache_dir": cache_dir, "limit": config.limit, "size": config.input_size}
    train_x, train_y = preprocess_split(data_dir, "Training", **prepared)
    val_x, val_y = preprocess_split(data_dir, "PublicTest", **prepared)
    one_hot = np.eye(len(EMOTIONS), dtype=np.float32)
    ferplus_counts = None
    if ferplus_dir is not None:
        train_x, train_t, ferplus_counts = with_ferplus_targets(
            train_x, train_y, split_files(data_dir, "Training", limit=config.limit)[0], ferplus_dir,
            weight=config.ferplus_weight)
    else:
        train_t = one_hot[train_y]
    if rafdb_dir is not None:
        raf_x, raf_y = preprocess_split(rafdb_dir, "train", corpus="rafdb", **prepared)
        held_out = np.random.default_rng(config.seed).random(len(raf_y)) < config.rafdb_holdout
        train_x = np.concatenate([train_x, raf_x[~held_out]])
        train_t = np.concatenate([train_t, one_hot[raf_y[~held_out]]])
        val_x, val_y = np.concatenate([val_x, raf_x[held_out]]), np.concatenate([val_y, raf_y[held_out]])

    bfloat16 = _use_bfloat16(config.precision)
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if bfloat16 else "float32")
    model = build_classifier(config)
    if config.init_weights:
        model.load_weights(config.init_weights)
    steps = int(np.ceil(len(train_x) / config.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate * 0.1, warmup_target=config.learning_rate,
        warmup_steps=config.warmup_epochs * steps, decay_steps=max(1, (config.epochs - config.warmup_epochs) * steps),
    )
    if config.architecture == "mobilenet":  # fine-tuning: Adam reaches a good point in the few epochs a CPU allows
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay, use_ema=True,
                                           ema_momentum=0.999)
    else:
        optimizer = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=config.weight_decay,
                                         use_ema=True, ema_momentum=0.999)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
    resumed = _resume_point(out_dir)
    batches = AugmentedFaces(train_x, train_t, class_weights=class_weights(train_t.argmax(axis=1)),
                             batch_size=config.batch_size,
                             seed=config.seed, num_classes=len(EMOTIONS), first_epoch=resumed["epoch"])
    best_weights = out_dir / "best.weights.h5"
    callbacks = [
        # Kept until the schedule is complete, so a run stopped by --max-minutes or a restart resumes.
        keras.callbacks.BackupAndRestore(str(out_dir / "backup"), delete_checkpoint=False),
        keras.callbacks.SwapEMAWeights(swap_on_epoch=True),
        keras.callbacks.ModelCheckpoint(str(best_weights), monitor="val_accuracy", mode="max",
                                        save_best_only=True, save_weights_only=True,
                                        initial_value_threshold=resumed["best_val_accuracy"]),
        keras.callbacks.CSVLogger(str(out_dir / "history.csv"), append=True),
    ]
    if config.max_minutes:
        callbacks.append(_time_limit(config.max_minutes))
    started = time.time()
    model.fit(
        batches, validation_data=(_to_inputs(val_x), keras.utils.to_categorical(val_y, len(EMOTIONS))),
        validation_batch_size=256, epochs=config.epochs, callbacks=callbacks,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    minutes = (time.time() - started) / 60
    model.load_weights(str(best_weights))
    model_path = out_dir / "face_expression.onnx"
    export_classifier(model, config, model_path)
    mobilenet = config.architecture == "mobilenet"
    if mobilenet:  # float32 computes the same on every CPU; the VGG needs int8 for its speed
        quantization = {"method": "none: float32"}
    else:
        quantization = quantize_classifier(model_path, train_x, seed=config.seed)
    training = {
        "command": command,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "hardware": accelerator,
        "precision": "mixed bfloat16" if bfloat16 else "float32",
        "minutes_this_session": round(minutes, 1),
        "config": asdict(config),
        **_selection_summary(out_dir / "history.csv"),
        **({"ferplus": {**ferplus_counts, "targets": f"FER-2013 Training: {1 - config.ferplus_weight:g} of its own "
                        f"label, {config.ferplus_weight:g} of FER+'s vote shares over the seven emotions; pictures "
                        "FER+'s voters did not take for a face dropped"}} if ferplus_counts else {}),
        "class_weights": "inverse square-root frequency",
        "augmentation": "mirror, rotation 10 deg, scale 10%, shift 10%, random erasing (p 0.5)",
        "optimizer": f"{'AdamW' if mobilenet else 'SGD with Nesterov momentum'}, cosine decay with warm-up, "
                     "EMA of weights (0.999)",
    }
    (out_dir / "training.json").write_text(json.dumps(training, indent=2))
    if training["epochs_run"] >= config.epochs:
        shutil.rmtree(out_dir / "backup", ignore_errors=True)
    else:
        print(f"stopped after {training['epochs_run']} of {config.epochs} epochs: the same command resumes",
              flush=True)
    size = config.input_size
    selection = "PublicTest_* (3,589)"
    if rafdb_dir is not None:
        selection += f" and a seeded {config.rafdb_holdout:.0%} of RAF-DB train"
    # to the minute: two runs finished on one day are two models, and history rows name the model they used
    stamp = f"{datetime.now(timezone.utc):%Y%m%dT%H%M}"
    corpora = "fer2013-rafdb" if rafdb_dir is not None else "fer2013"
    if mobilenet:
        model_id = f"face-mnv2-{size}-{corpora}-{stamp}"
        frozen = f"stem and {config.frozen_blocks} blocks" if config.frozen_blocks else "only the stem"
        architecture = (f"ImageNet MobileNetV2 (torchvision weights), {frozen} frozen, dropout {config.dropout}, "
                        f"7-way head, {model.count_params():,} parameters")
    else:
        model_id = f"face-vgg{config.widths[-1]}-{corpora}-{stamp}-int8w{WEIGHT_BITS}"
        architecture = (f"VGG-style CNN, stages {list(config.widths)} (2 conv each), dense {config.dense_units}, "
                        f"{model.count_params():,} parameters")
    return {
        "model_id": model_id,
        "task": "facial expression recognition",
        "modality": "face",
        "file": model_path.name,
        "labels": list(EMOTIONS),
        "architecture": architecture,
        "input": {"shape": [size, size, 1], "dtype": "float32", "range": [0, 1],
                  "preprocessing": "BlazeFace detection, FER-2013 framing, eyes levelled, grey, histogram "
                                   f"equalisation, {size}x{size} (emotion_core.face.alignment)"},
        "inference": {"runtime": "onnxruntime", "flip_average": True,
                      "precision": "float32" if mobilenet else "int8"},
        "quantization": quantization,
        "dataset": {**FER2013_TERMS, "split": {"train": "Training_* (28,709)", "selection": selection,
                                               "test": "PrivateTest_* (3,589)"},
                    **({"also": {**RAFDB_TERMS, "test": "RAF-DB test (3,068)"}} if rafdb_dir is not None else {}),
                    **({"labels_also": FERPLUS_TERMS} if ferplus_dir is not None else {})},
        "training": training,
        "metrics": {},
    }


def quantize_classifier(model_path: Path, train_faces: np.ndarray, *, seed: int,
                        samples: int = 600) -> dict[str, Any]:
    """Replace the float32 classifier at ``model_path`` by its int8 version, keeping the float32 one beside it.

    Activation ranges are calibrated on ``samples`` seeded ``Training_*`` faces and their mirror images (the
    inputs the model sees with ``flip_average``). Returns the card's ``quantization`` section.
    """
    from emotion_core.training.export import WEIGHT_BITS, quantize_int8

    chosen = _to_inputs(train_faces[np.random.default_rng(seed).permutation(len(train_faces))[:samples]])
    float_path = model_path.with_suffix(".fp32.onnx")
    model_path.replace(float_path)
    quantize_int8(float_path, model_path, np.concatenate([chosen, chosen[:, :, ::-1]]))
    return {"method": f"ONNX Runtime static quantisation, QDQ, int8 weights per channel in {WEIGHT_BITS} bits "
                      "(reduce_range: no 16-bit overflow on AVX2 CPUs without VNNI), uint8 activations",
            "calibration": f"{len(chosen)} Training_* faces (seed {seed}) and their mirror images",
            "float32_file": f"{float_path.name} (kept in the run folder, not shipped)"}


def _resume_point(out_dir: Path) -> dict[str, Any]:
    """Where an interrupted run in ``out_dir`` stands: epochs done and the best PublicTest accuracy so far."""
    metadata = out_dir / "backup" / "training_metadata.json"
    if not metadata.is_file():
        return {"epoch": 0, "best_val_accuracy": None}
    summary = _selection_summary(out_dir / "history.csv")
    return {"epoch": json.loads(metadata.read_text())["epoch"],
            "best_val_accuracy": summary["best_epoch_val_accuracy_keras"]}


def _selection_summary(history_csv: Path) -> dict[str, Any]:
    """Epochs run and the epoch kept (best PublicTest accuracy), read from the whole run's log."""
    import csv

    with history_csv.open() as f:
        accuracies = [float(row["val_accuracy"]) for row in csv.DictReader(f)]
    best = int(np.argmax(accuracies))
    return {"epochs_run": len(accuracies), "best_epoch": best + 1,
            "best_epoch_val_accuracy_keras": round(accuracies[best], 4)}


def export_classifier(model, config: FaceTrainingConfig, path: Path) -> None:
    """Export the classifier to ONNX in float32, whatever precision it was trained in."""
    import keras

    keras.mixed_precision.set_global_policy("float32")
    from emotion_core.training.export import export_onnx

    inference = build_classifier(config)
    inference.set_weights(model.get_weights())
    size = config.input_size
    export_onnx(inference, np.zeros((1, size, size, 1), dtype=np.float32), path, input_name="face")
