"""The shipped int8 face and text models compute what their float networks compute, whatever x86 CPU runs them.

The float network is rebuilt from the shipped QDQ graph itself (:func:`float_reference`), so the test needs no
other file. The faces are made here from skimage's images: jittered, relit, noisy, blurred and blended crops of
the two faces they hold, and crops of images without a face; the texts from a few templates and words.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from emotion_core.face.alignment import align_face, normalise_illumination
from emotion_core.face.predictor import FacePredictor
from emotion_core.modelcard import list_cards
from emotion_core.training.export import WEIGHT_BITS, float_reference

MODELS = Path(__file__).resolve().parents[2] / "models"
SAMPLE = 400
AGREEMENT = 0.995
INT8_MODELS = {modality: [card["name"] for card in list_cards(MODELS) if card.get("modality") == modality
                          and card.get("inference", {}).get("precision") == "int8"] for modality in ("face", "text")}
"""File stems of the shipped int8 models, by modality (float32 ones compute the same on every CPU anyway)."""
INT8_FACE_MODELS = INT8_MODELS["face"]


def test_an_int8_face_model_is_shipped():
    assert INT8_FACE_MODELS, "no shipped face model is int8: these tests would check nothing"


def _gray(name: str) -> np.ndarray:
    import cv2
    import skimage.data

    image = getattr(skimage.data, name)()
    return image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)


def generated_faces(n: int = SAMPLE, *, seed: int = 16) -> np.ndarray:
    """``(n, 48, 48)`` uint8 model inputs: 60 % jittered faces, 20 % blends of two faces, 20 % no face."""
    import cv2

    rng = np.random.default_rng(seed)
    # (image, FER-like square centre, side) of the faces BlazeFace finds in skimage's astronaut and camera
    faces = [(_gray("astronaut"), (226.0, 117.0), 119.0), (_gray("camera"), (239.0, 157.0), 81.0)]
    scenes = [_gray(name) for name in ("coffee", "chelsea", "rocket", "immunohistochemistry")]

    def jittered(image: np.ndarray, centre: tuple[float, float], side: float) -> np.ndarray:
        side *= rng.uniform(0.8, 1.25)
        centre = (centre[0] + rng.uniform(-0.12, 0.12) * side, centre[1] + rng.uniform(-0.12, 0.12) * side)
        face = align_face(image, centre=centre, side=side, angle=rng.uniform(-20, 20))
        face = 255.0 * (face / 255.0) ** rng.uniform(0.5, 2.0)
        if rng.random() < 0.5:
            face = cv2.GaussianBlur(face, (0, 0), rng.uniform(0.3, 1.5))
        face = face + rng.normal(0, rng.uniform(0, 15), face.shape)
        return face[:, ::-1] if rng.random() < 0.5 else face

    out = np.empty((n, 48, 48), dtype=np.uint8)
    for i in range(n):
        kind = rng.random()
        if kind < 0.6:
            face = jittered(*faces[rng.integers(len(faces))])
        elif kind < 0.8:
            weight = rng.uniform(0.3, 0.7)
            face = weight * jittered(*faces[0]) + (1 - weight) * jittered(*faces[1])
        else:
            scene = scenes[rng.integers(len(scenes))]
            side = rng.uniform(40, min(scene.shape) * 0.8)
            height, width = scene.shape
            centre = (rng.uniform(side / 2, width - side / 2), rng.uniform(side / 2, height - side / 2))
            face = align_face(scene, centre=centre, side=side, angle=rng.uniform(-20, 20)).astype(float)
        out[i] = normalise_illumination(np.clip(face, 0, 255).astype(np.uint8))
    return out


def top1_agreement(model, reference, faces: np.ndarray) -> float:
    """Share of ``faces`` on which two ONNX models (paths or ModelProtos) give the same label, each run as the
    face predictor runs the shipped model (mirror average)."""
    from emotion_core.runtime import load_onnx_session

    labels = []
    for source in (model, reference):
        if not isinstance(source, (str, Path)):
            import onnxruntime as ort

            session = ort.InferenceSession(source.SerializeToString(), providers=["CPUExecutionProvider"])
        else:
            session = load_onnx_session(source)
        predictor = FacePredictor(session=session, detector=None, model_id="")
        labels.append(predictor.classify(faces).argmax(axis=1))
    return float(np.mean(labels[0] == labels[1]))


@pytest.mark.parametrize("model", INT8_FACE_MODELS)
class TestShippedFaceModel:
    def test_int8_agrees_with_its_float_network(self, model):
        shipped = MODELS / f"{model}.onnx"
        agreement = top1_agreement(shipped, float_reference(shipped), generated_faces())
        assert agreement >= AGREEMENT, f"int8 and float labels agree on {agreement:.2%} of {SAMPLE} faces"


@pytest.mark.parametrize("model", INT8_MODELS["face"] + INT8_MODELS["text"])
def test_no_weight_can_saturate_a_16_bit_pair_sum(model):
    """AVX2 kernels add two uint8 x int8 products in 16 bits: |w| <= 64 keeps 2 x 255 x |w| below 32768."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(MODELS / f"{model}.onnx")).graph
    constants = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    weights = [constants[n.input[0]] for n in graph.node
               if n.op_type == "DequantizeLinear" and constants.get(n.input[0], np.zeros(0)).dtype == np.int8]
    assert weights, f"the shipped model {model} has no int8 weights"
    largest = max(int(np.abs(w.astype(int)).max()) for w in weights)
    assert 2 * 255 * largest < 2 ** 15, f"an int8 weight of {largest} can saturate 16-bit sums"
    assert largest <= 2 ** (WEIGHT_BITS - 1)


def generated_sentences(n: int = SAMPLE, *, seed: int = 18) -> list[str]:
    """``n`` fixed English sentences made from templates: feelings, events, plain statements."""
    rng = np.random.default_rng(seed)
    subjects = ["I", "My sister", "The team", "We", "Everyone at work", "He", "They"]
    feelings = ["happy", "furious", "terrified", "heartbroken", "amazed", "disgusted", "calm", "worried",
                "thrilled", "annoyed", "lonely", "surprised", "grateful", "sick of it", "fine"]
    events = ["the results came in", "the train was late again", "we moved house", "the dog ran away",
              "nobody called back", "the meeting moved to Tuesday", "I saw the photos", "the food arrived cold"]
    templates = ["{s} felt {f} when {e}.", "{s} {b} so {f} after {e}!", "Honestly, {e} and {s} {b} {f}.",
                 "Why is it that {e}? {s} {b} {f}.", "{e} - {s} {b} not {f} at all."]
    out = []
    for _ in range(n):
        subject = subjects[rng.integers(len(subjects))]
        out.append(templates[rng.integers(len(templates))].format(
            s=subject, f=feelings[rng.integers(len(feelings))], e=events[rng.integers(len(events))],
            b="am" if subject == "I" else "are" if subject in ("We", "They") else "is"))
    return [sentence[0].upper() + sentence[1:] for sentence in out]


@pytest.mark.parametrize("model", INT8_MODELS["text"])
def test_int8_text_model_agrees_with_its_float_network(model):
    import onnxruntime as ort

    from emotion_core.text.predictor import TextPredictor

    shipped = TextPredictor.from_dir(MODELS, model=model)
    reference = float_reference(MODELS / f"{model}.onnx")
    exact = TextPredictor(session=ort.InferenceSession(reference.SerializeToString(),
                                                       providers=["CPUExecutionProvider"]),
                          vocabulary=shipped.vocabulary, model_id="float", subwords=shipped.encoder)
    sentences = generated_sentences()
    agreement = float(np.mean(shipped.raw_probabilities(sentences).argmax(1)
                              == exact.raw_probabilities(sentences).argmax(1)))
    assert agreement >= AGREEMENT, f"int8 and float labels agree on {agreement:.2%} of {SAMPLE} sentences"


class TestFloatReference:
    @pytest.mark.parametrize("model", INT8_FACE_MODELS)
    def test_folds_every_quantisation_node(self, model):
        reference = float_reference(MODELS / f"{model}.onnx")
        assert not {n.op_type for n in reference.graph.node} & {"QuantizeLinear", "DequantizeLinear"}
        assert all(i.data_type == 1 or i.name.startswith("/Concat") for i in reference.graph.initializer)

    def test_generated_faces_are_fixed(self):
        first, again = generated_faces(8), generated_faces(8)
        assert first.shape == (8, 48, 48) and first.dtype == np.uint8
        np.testing.assert_array_equal(first, again)
        assert not math.isclose(float(first.std()), 0.0)

    def test_a_quantised_toy_network_matches_its_reference(self, tmp_path):
        """A tiny conv net quantised by the project's recipe: 7-bit weights, and the rebuilt float network
        (ReLU restored where the quantiser folded it into a uint8 clip) gives the int8 one's probabilities."""
        import onnx
        import onnxruntime as ort
        import torch

        from emotion_core.training.export import quantize_int8

        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                  torch.nn.Flatten(), torch.nn.Linear(8 * 24 * 24, 7), torch.nn.Softmax(dim=1))
        source, target = tmp_path / "toy.onnx", tmp_path / "toy.int8.onnx"
        torch.onnx.export(net, (torch.zeros(1, 1, 48, 48),), str(source), input_names=["face"], dynamo=False,
                          dynamic_axes={"face": {0: "batch"}}, opset_version=17)
        faces = generated_faces(64).astype(np.float32)[:, None] / 255.0
        quantize_int8(source, target, faces)

        def run(model: onnx.ModelProto) -> np.ndarray:
            return ort.InferenceSession(model.SerializeToString()).run(None, {"face": faces})[0]

        reference = run(float_reference(target))
        assert np.abs(run(onnx.load(str(target))) - reference).max() < 0.05
        assert np.abs(reference - run(onnx.load(str(source)))).max() < 0.05
        assert "Relu" in {n.op_type for n in float_reference(target).graph.node}
