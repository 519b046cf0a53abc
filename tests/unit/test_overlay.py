import numpy as np
import pytest

from emotion_core.face.overlay import (
    COLOURS_BGR,
    UNCERTAIN_BGR,
    annotate,
    colour_hex,
    draw_emoji,
    left_to_right,
    place_banner,
)
from emotion_core.labels import EMOTIONS
from emotion_core.result import EmotionResult


def face_result(label: str, box=(100, 120, 80, 80)) -> EmotionResult:
    probs = [0.9 if name == label else 0.1 / 6 for name in EMOTIONS]
    return EmotionResult.from_probabilities(probs, modality="face", model_id="stub", box=box)


def test_annotate_draws_on_a_copy():
    image = np.full((300, 300, 3), 255, np.uint8)
    out = annotate(image, [face_result("happy")])
    assert (image == 255).all()  # the input is untouched
    x, y, h = 100, 120, 80
    edge = out[y + h // 2, x - 1:x + 2].astype(int)  # the box's left edge, drawn anti-aliased
    assert np.abs(edge - COLOURS_BGR["happy"]).sum(axis=1).min() < 60
    assert (out[y - 25:y, x:x + 60] != 255).any()  # the label banner above the box


def test_results_without_a_box_are_ignored():
    image = np.zeros((50, 50, 3), np.uint8)
    text_result = EmotionResult.from_probabilities([1, 0, 0, 0, 0, 0, 0], modality="text", model_id="stub")
    assert np.array_equal(annotate(image, [text_result]), image)


@pytest.mark.parametrize("label", EMOTIONS)
def test_each_emoji_is_drawn_and_differs_from_neutral(label):
    def drawn(name):
        canvas = np.zeros((60, 60, 3), np.uint8)
        draw_emoji(canvas, (30, 30), 25, name)
        return canvas

    canvas = drawn(label)
    assert (canvas != 0).any()
    if label != "neutral":
        assert not np.array_equal(canvas, drawn("neutral"))


def test_colour_hex_is_rgb():
    assert colour_hex("angry") == "#dc2828"


def test_crowded_labels_never_overlap_and_stay_in_the_image():
    boxes = [(10 + 45 * i, 60, 40, 40) for i in range(5)]  # five faces side by side, labels wider than the faces
    taken = []
    for box in boxes:
        rect = place_banner(box, (120, 20), (400, 300), taken)
        assert rect[0] >= 0 and rect[1] >= 0 and rect[2] <= 400 and rect[3] <= 300
        assert not any(rect[0] < o[2] and o[0] < rect[2] and rect[1] < o[3] and o[1] < rect[3] for o in taken)
        taken.append(rect)
    assert taken[0][3] == 60  # the first label sits right above its face


def test_faces_are_numbered_left_to_right():
    right, left = face_result("sad", box=(200, 10, 50, 50)), face_result("happy", box=(20, 100, 50, 50))
    assert left_to_right([right, left]) == [left, right]
    image = np.full((300, 300, 3), 255, np.uint8)
    one, two = annotate(image, [right, left]), annotate(image, [left, right])
    assert np.array_equal(one, two)  # the numbers follow positions, not the order results come in


def test_an_uncertain_result_is_drawn_grey_and_dashed():
    image = np.full((300, 300, 3), 255, np.uint8)
    sure = face_result("happy")
    doubtful = EmotionResult.from_probabilities(list(sure.scores.values()), modality="face", model_id="stub",
                                                box=sure.box, uncertain="face blurred")
    plain, marked = annotate(image, [sure]), annotate(image, [doubtful])
    x, y, w, h = sure.box
    left_edge = marked[y:y + h, x].astype(int)
    assert (np.abs(left_edge - UNCERTAIN_BGR).sum(axis=1) < 60).any()  # grey dashes ...
    assert (left_edge == 255).all(axis=1).any()  # ... with gaps
    assert not np.array_equal(plain[y - 25:y, x:x + 140], marked[y - 25:y, x:x + 140])  # "happy?" in grey
