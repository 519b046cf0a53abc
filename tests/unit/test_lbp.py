import numpy as np
import pytest

from emotion_core.face.lbp import BINS, lbp_histograms, uniform_lbp


def test_flat_image_is_all_ones_pattern():
    # every neighbour equals the centre (>=): all 8 bits set, a uniform pattern with 8 ones
    assert (uniform_lbp(np.full((5, 5), 7, np.uint8)) == 8).all()


def test_a_bright_centre_has_no_ones():
    image = np.zeros((3, 3), np.uint8)
    image[1, 1] = 9
    assert uniform_lbp(image).tolist() == [[0]]


def test_an_edge_is_a_run_of_ones():
    image = np.zeros((3, 3), np.uint8)
    image[1, 1] = 3
    image[:, 2] = 5  # only the right column is not darker than the centre: three neighbours in a row
    assert uniform_lbp(image).tolist() == [[3]]


def test_a_checkerboard_is_non_uniform():
    image = np.indices((3, 3)).sum(axis=0) % 2 * 9
    image[1, 1] = 4
    assert uniform_lbp(image.astype(np.uint8)).tolist() == [[BINS - 1]]


def test_histograms_shape_and_normalisation():
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    histograms = lbp_histograms(faces, grid=6)
    assert histograms.shape == (3, 360) and histograms.dtype == np.float32
    cells = histograms.reshape(3, 36, BINS).sum(axis=2)
    assert cells == pytest.approx(np.ones_like(cells))
