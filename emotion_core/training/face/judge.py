"""Train the whole-image face judge (:class:`emotion_core.face.judge.FaceJudge`).

Faces: FER-2013 ``Training_*`` and RAF-DB ``train`` crops (less FER+'s non-faces, and less the detection
benchmark's training draw, on which the judge's thresholds in :mod:`emotion_core.face.search` are chosen), each
cut a little, scaled to 40-400 px, as is, mirrored or rolled by 30 degrees, some brightened or darkened. Not
faces: random views of photos and textures without a person, one folder per pool, the pools drawn equally often.
The features are MobileNetV2's last feature map, as the judge computes it at run time; a logistic regression on
them, cross-validated, is folded into one ONNX graph with the network (:func:`judge_graph`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

FER_PREFIXES = {"train": "Training", "test": "PrivateTest"}
RAFDB_SPLITS = {"train": "train", "test": "test"}
BENCHMARK_TRAIN_DRAW = {"split": "train", "n": 600, "seed": 1}
"""The detection benchmark's training draw of crops (``benchmarks/detection.py --split train``)."""
NON_FACE_SOURCES = {
    "DTD (Describable Textures Dataset), 10 of its 47 categories, 1,200 textures": "fetched from "
    "pan8915/DeepTexture, images/; research use (Cimpoi et al., 2014)",
    "natural_images (Roy et al., 2018), 30x30 thumbnails of airplanes, cars, cats, dogs, flowers, fruit and "
    "motorbikes; its person class left out": "fetched from Keunyoung-Jung/my_first_DL, natural_images/; research use",
    "Microsoft's Cats vs Dogs (Asirra) photos, 24,998": "fetched from karemsaeed21/cat_vs_dog_classification_CNN, "
    "PetImages/{Cat,Dog}/; Microsoft Research, research use",
}
"""The photos without a person the shipped judge learnt from (a few pet photos show their owner too)."""
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
REGULARISATION = 0.01
"""Inverse regularisation strength C of the logistic regression, chosen in an exploratory run (not kept) on a
fifth of the training images held out: faces found at 1 in 1,000 non-faces taken for one, 90.0 / 92.0 / 91.8 /
92.2 % at C 0.0003 / 0.001 / 0.01 / 0.03, and 96.5 / 97.4 / 98.0 / 97.9 % at 8 in 1,000 (the map's mean instead
of the map, as the first judge: 87.4 and 95.6 %); the shipped judge's cross-validated figures are in its card."""
SPATIAL_OUTPUT = "feature_map"


def drawn_crop_files(fer_dir: Path | None, rafdb_dir: Path | None, *, split: str, n: int,
                     seed: int) -> list[tuple[str, Path]]:
    """``n`` face crop files, half from each data set given, drawn at random from ``split`` (the detection
    benchmark's draw)."""
    pools = []
    if fer_dir is not None:
        pools.append(("fer2013", sorted(Path(fer_dir).glob(f"*/*/{FER_PREFIXES[split]}_*.jpg"))))
    if rafdb_dir is not None:
        pools.append(("rafdb", sorted(Path(rafdb_dir).glob(f"{RAFDB_SPLITS[split]}/[1-7]/*.jpg"))))
    if not pools or not all(files for _, files in pools):
        raise SystemExit(f"no face crops found under {fer_dir} / {rafdb_dir} for split {split!r}")
    rng = random.Random(seed)
    return [(source, path) for source, files in pools for path in rng.sample(files, min(len(files), n // len(pools)))]


def face_files(fer_dir: Path, rafdb_dir: Path, ferplus_dir: Path | None, *, n: int, seed: int) -> list[Path]:
    """``n`` training crops, half from each set, none from the benchmark's training draw nor, with
    ``ferplus_dir``, a FER-2013 picture that FER+ does not count as a face."""
    from emotion_core.face.ferplus import ferplus_votes, is_face

    held_out = {path for _, path in drawn_crop_files(fer_dir, rafdb_dir, **BENCHMARK_TRAIN_DRAW)}
    rng = random.Random(seed)
    fer = rng.sample([p for p in sorted(Path(fer_dir).glob("*/*/Training_*.jpg")) if p not in held_out], n // 2)
    if ferplus_dir is not None:
        fer = [path for path, votes in zip(fer, ferplus_votes(fer, ferplus_dir)) if is_face(votes)]
    raf = rng.sample([p for p in sorted(Path(rafdb_dir).glob("train/[1-7]/*.jpg")) if p not in held_out], n - n // 2)
    return fer + raf


def varied_face(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A crop cut to 85-100 % of its side, scaled to 40-400 px, as is, mirrored or rolled by 30 degrees either
    way (cut back to its side, corners repeating the edge), and a third of the time brightened or darkened."""
    import cv2

    side = crop.shape[0]
    cut = int(side * rng.uniform(0.85, 1.0))
    top, left = rng.integers(0, side - cut + 1, 2)
    size = int(np.exp(rng.uniform(np.log(40), np.log(400))))
    face = cv2.resize(crop[top:top + cut, left:left + cut], (size, size), interpolation=cv2.INTER_CUBIC)
    turn = rng.integers(4)
    if turn == 1:
        face = face[:, ::-1]
    elif turn > 1:
        matrix = cv2.getRotationMatrix2D((size / 2, size / 2), 30.0 if turn == 2 else -30.0, 1.0)
        face = cv2.warpAffine(face, matrix, (size, size), borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.3:
        face = np.clip(face * rng.uniform(0.6, 1.4), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(face)


def photo_view(photo: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A random view of a photo at ``size`` (width, height): a crop of 30-100 % of it, maybe mirrored or rolled,
    brightened or darkened (the detection benchmark's views of scenes too)."""
    import cv2

    width, height = size
    h, w = photo.shape[:2]
    aspect = width / height
    scale = rng.uniform(0.3, 1.0)
    ch = int(min(h, w / aspect) * scale)
    cw = max(1, int(ch * aspect))
    ch = max(1, ch)
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    view = cv2.resize(photo[y:y + ch, x:x + cw], (width, height),
                      interpolation=cv2.INTER_AREA if cw > width else cv2.INTER_CUBIC)
    if rng.random() < 0.5:
        view = view[:, ::-1]
    if rng.random() < 0.3:
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), float(rng.uniform(-30, 30)), 1.0)
        view = cv2.warpAffine(view, matrix, (width, height), borderMode=cv2.BORDER_REFLECT_101)
    gain = rng.uniform(0.6, 1.4)
    return np.ascontiguousarray(np.clip(view.astype(np.float32) * gain, 0, 255).astype(np.uint8))


def random_view(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A :func:`photo_view` 32-640 px wide at an aspect ratio from 3:4 to 16:9."""
    width = int(np.exp(rng.uniform(np.log(32), np.log(640))))
    return photo_view(photo, (width, max(16, int(width / rng.uniform(0.75, 16 / 9)))), rng)


def photo_files(folder: Path, *, leave_out: Sequence[str] = ()) -> list[Path]:
    """The images under ``folder``, less those in a sub-folder named in ``leave_out`` (e.g. ``person``)."""
    return [path for path in sorted(Path(folder).rglob("*")) if path.suffix.lower() in IMAGE_SUFFIXES
            and not set(path.relative_to(folder).parts[:-1]) & set(leave_out)]


def non_face_views(pools: list[list[Path]], *, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``n`` :func:`random_view` s, each of a photo drawn from a pool drawn at random (unreadable files skipped)."""
    import cv2

    views: list[np.ndarray] = []
    while len(views) < n:
        pool = pools[rng.integers(len(pools))]
        photo = cv2.imread(str(pool[rng.integers(len(pool))]), cv2.IMREAD_COLOR)
        if photo is not None:
            views.append(random_view(photo, rng))
    return views


def spatial_backbone(backbone_path: Path):
    """The MobileNetV2 at ``backbone_path`` with its last feature map, flattened, as output (``(N, 11520)`` at
    96 px) instead of the map's mean."""
    import onnx

    model = onnx.load(str(backbone_path))
    graph = model.graph
    pool = graph.node[-1]
    if pool.op_type != "ReduceMean" or list(pool.output) != [graph.output[0].name]:
        raise ValueError(f"{backbone_path}: expected the network to end in its global average pool")
    graph.node.remove(pool)
    graph.node.append(onnx.helper.make_node("Flatten", [pool.input[0]], [SPATIAL_OUTPUT], axis=1))
    del graph.output[:]
    graph.output.append(onnx.helper.make_tensor_value_info(SPATIAL_OUTPUT, onnx.TensorProto.FLOAT, ["batch", None]))
    return model


def judge_graph(backbone_path: Path, coef: np.ndarray, intercept: float):
    """:func:`spatial_backbone` followed by the logistic regression ``sigmoid(features @ coef + intercept)``:
    ``(N, 96, 96, 3)`` -> ``(N, 1)`` probabilities of a face."""
    import onnx
    from onnx import numpy_helper

    model = spatial_backbone(backbone_path)
    graph = model.graph
    graph.initializer.extend([numpy_helper.from_array(coef.astype(np.float32)[:, None], "judge_coef"),
                              numpy_helper.from_array(np.array([intercept], np.float32), "judge_intercept")])
    graph.node.extend([onnx.helper.make_node("MatMul", [SPATIAL_OUTPUT, "judge_coef"], ["judge_scaled"]),
                       onnx.helper.make_node("Add", ["judge_scaled", "judge_intercept"], ["judge_logit"]),
                       onnx.helper.make_node("Sigmoid", ["judge_logit"], ["face_probability"])])
    del graph.output[:]
    graph.output.append(onnx.helper.make_tensor_value_info("face_probability", onnx.TensorProto.FLOAT, ["batch", 1]))
    onnx.checker.check_model(model)
    return model


def train_judge(fer_dir: Path, rafdb_dir: Path, negative_dirs: Sequence[Path], *, ferplus_dir: Path | None,
                backbone_path: Path, leave_out: Sequence[str] = ("person",), faces: int = 12000, non_faces: int = 32000,
                seed: int = 42) -> tuple[Any, dict[str, Any]]:
    """The judge (an ONNX model, :func:`judge_graph`) on the MobileNetV2 at ``backbone_path``, and the figures for
    its card."""
    import cv2
    import onnxruntime as ort
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.preprocessing import StandardScaler

    from emotion_core.face.judge import judge_inputs

    rng = np.random.default_rng(seed)
    crops = face_files(fer_dir, rafdb_dir, ferplus_dir, n=faces, seed=seed)
    pools = [photo_files(folder, leave_out=leave_out) for folder in negative_dirs]
    if not all(pools):
        raise SystemExit(f"no images in one of {', '.join(map(str, negative_dirs))}")
    images = [varied_face(cv2.imread(str(path), cv2.IMREAD_COLOR), rng) for path in crops]
    images += non_face_views(pools, n=non_faces, rng=rng)
    labels = np.r_[np.ones(len(crops)), np.zeros(non_faces)]
    network = ort.InferenceSession(spatial_backbone(backbone_path).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    features = np.concatenate([network.run(None, {network.get_inputs()[0].name: judge_inputs(images[i:i + 64])})[0]
                               for i in range(0, len(images), 64)])
    scaled = StandardScaler().fit(features)
    standardised = scaled.transform(features).astype(np.float32)
    model = LogisticRegression(C=REGULARISATION, max_iter=3000)
    held_out = cross_val_predict(model, standardised, labels, cv=5, method="predict_proba")[:, 1]
    model.fit(standardised, labels)
    coef = model.coef_[0] / scaled.scale_  # the standardisation folded into the regression
    intercept = float(model.intercept_[0] - scaled.mean_ @ coef)
    faces_p, others_p = held_out[labels == 1], held_out[labels == 0]
    figures = {"faces": len(crops), "non-faces": non_faces,
               "pools": {str(folder): len(pool) for folder, pool in zip(negative_dirs, pools)},
               "cross-validated (5 folds)": {f"from {t}": {
                   "faces found": round(float(np.mean(faces_p >= t)), 4),
                   "non-faces taken for a face per 1000": round(1000 * float(np.mean(others_p >= t)), 2)}
                   for t in (0.001, 0.5, 0.9)}}
    return judge_graph(backbone_path, coef, intercept), figures
