"""The whole-image face judge: what the shipped one says, how it settles close-ups, and how it is trained."""

import cv2
import numpy as np
import onnxruntime
import pytest

from emotion_core.face.judge import JUDGE_SIZE, FaceJudge, central_square, judge_inputs
from emotion_core.face.search import CLOSE_UP_SCORE, JUDGED_VOTES, close_up_holds_face
from tests.conftest import MODELS


@pytest.fixture(scope="module")
def judge():
    return FaceJudge.from_dir(MODELS)


def test_the_shipped_judge_tells_a_face_from_a_coffee_cup(judge, face_crop_bgr, coffee_bgr):
    judged_face = JUDGED_VOTES[-2][0]  # the probability from which a doubtful vote is enough
    assert judge.probability(face_crop_bgr) >= judged_face
    assert judge.probability(cv2.resize(face_crop_bgr, (400, 400), interpolation=cv2.INTER_CUBIC)) >= judged_face
    assert judge.probability(coffee_bgr) < JUDGED_VOTES[-1][0]


def test_the_judge_weighs_the_image_as_it_is_and_mirrored(judge, face_crop_bgr):
    mirrored = np.ascontiguousarray(face_crop_bgr[:, ::-1])
    both = judge.probabilities([face_crop_bgr, mirrored])
    assert judge.probability(face_crop_bgr) == pytest.approx(both.mean(), abs=1e-6)
    assert judge.probability(mirrored) == pytest.approx(judge.probability(face_crop_bgr), abs=1e-6)


def test_the_judge_sees_the_central_square_in_grey():
    image = np.zeros((100, 300, 3), np.uint8)
    image[:, 100:200] = (0, 0, 255)  # a red square in the middle, black on either side
    square = central_square(image)
    assert square.shape == (JUDGE_SIZE, JUDGE_SIZE)
    assert np.all(square == cv2.cvtColor(np.full((1, 1, 3), (0, 0, 255), np.uint8), cv2.COLOR_BGR2GRAY)[0, 0])


RULES = ((0.95, 0.1), (0.7, 0.3), (0.001, 0.55))


@pytest.mark.parametrize(("vote", "probability", "face"), [
    (0.55, 0.3, True),  # a clear vote needs no more than the judge's not vetoing it
    (0.3, 0.7, True),  # a doubtful vote is settled by the judge
    (0.3, 0.69, False),
    (0.1, 0.95, True),  # a weak vote is enough where the judge is sure
    (0.1, 0.94, False),
    (0.9, 0.0005, False),  # the judge vetoes what it surely does not take for a face
])
def test_the_surer_the_judge_the_weaker_the_vote_a_face_needs(vote, probability, face):
    assert close_up_holds_face(vote, lambda: probability, judged_votes=RULES) is face


def test_a_vote_no_rule_could_accept_is_no_face_without_asking_the_judge():
    def judged():
        raise AssertionError("the judge was asked")

    weakest = min(needed for _, needed in JUDGED_VOTES)
    assert not close_up_holds_face(weakest - 0.01, judged)
    assert close_up_holds_face(CLOSE_UP_SCORE, None) and not close_up_holds_face(CLOSE_UP_SCORE - 0.01, None)


def test_the_photo_search_asks_the_shipped_judge_about_a_close_up(face_crop_bgr):
    from emotion_core.face.detection import load_detector
    from emotion_core.face.search import find_faces

    detector = load_detector("blazeface", models_dir=MODELS)  # it finds no face in the crop: the close-up does
    asked = []
    probability = detector.judge.probability
    detector.judge.probability = lambda image: asked.append(image.shape) or probability(image)
    headshot = cv2.resize(face_crop_bgr, (400, 400), interpolation=cv2.INTER_CUBIC)
    (face,) = find_faces(detector, headshot)
    assert face.method == "whole image" and asked == [headshot.shape]


def test_training_leaves_out_the_benchmarks_draw_and_people(tmp_path):
    from emotion_core.training.face.judge import (
        BENCHMARK_TRAIN_DRAW,
        drawn_crop_files,
        face_files,
        photo_files,
        train_judge,
    )

    rng = np.random.default_rng(0)

    def write(path, shape):
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), rng.integers(0, 256, shape, dtype=np.uint8))

    fer, raf, photos = tmp_path / "fer2013", tmp_path / "rafdb", tmp_path / "photos"
    for i in range(310):  # the benchmark's draw takes 300 of each set
        write(fer / "train" / "happy" / f"Training_{i}.jpg", (48, 48))
        write(raf / "train" / "4" / f"train_{i:05d}_aligned.jpg", (100, 100, 3))
    for i in range(6):
        write(photos / "scenes" / f"{i}.jpg", (120, 160, 3))
        write(photos / "person" / f"{i}.jpg", (120, 160, 3))
    drawn = {path for _, path in drawn_crop_files(fer, raf, **BENCHMARK_TRAIN_DRAW)}
    faces = face_files(fer, raf, None, n=20, seed=1)
    assert len(faces) == 20 and not drawn & set(faces)
    assert {path.parent.name for path in photo_files(photos, leave_out=["person"])} == {"scenes"}
    model, figures = train_judge(fer, raf, [photos], ferplus_dir=None, faces=20, non_faces=20,
                                 backbone_path=MODELS / "seed002_mobilenet.onnx")
    assert figures["faces"] == 20 and figures["pools"] == {str(photos): 6}
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    judged = FaceJudge(session).probabilities([np.zeros((60, 80, 3), np.uint8), np.full((50, 50), 200, np.uint8)])
    assert judged.shape == (2,) and np.all((judged > 0) & (judged < 1))


def test_the_judge_is_a_logistic_regression_on_the_networks_feature_map(face_crop_bgr, coffee_bgr):
    from emotion_core.training.face.judge import judge_graph, spatial_backbone

    def session(model):
        return onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

    backbone = MODELS / "seed002_mobilenet.onnx"
    inputs = judge_inputs([face_crop_bgr, coffee_bgr])
    (feature_map,) = session(spatial_backbone(backbone)).run(None, {"image": inputs})
    assert feature_map.shape == (2, 3 * 3 * 1280)
    (pooled,) = onnxruntime.InferenceSession(str(backbone), providers=["CPUExecutionProvider"]).run(
        None, {"image": inputs})
    np.testing.assert_allclose(feature_map.reshape(2, 9, 1280).mean(1), pooled, rtol=1e-4, atol=1e-5)
    coef = np.random.default_rng(0).normal(0, 0.01, feature_map.shape[1]).astype(np.float32)
    (probabilities,) = session(judge_graph(backbone, coef, -0.5)).run(None, {"image": inputs})
    np.testing.assert_allclose(probabilities[:, 0], 1 / (1 + np.exp(-(feature_map @ coef - 0.5))), rtol=1e-4)
