"""Shared fixtures: real face images that packages ship, the shipped models, and a temporary labelled folder."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import emotion_core  # noqa: F401  (chooses the Keras backend before any test imports Keras)

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
SHARED_DATA = ROOT.parent / "shared" / "data"


def pytest_collection_modifyitems(config, items):
    """Skip tests that need the labelled data sets when ../shared/data is absent."""
    if SHARED_DATA.is_dir():
        return
    skip = pytest.mark.skip(reason=f"labelled data not found at {SHARED_DATA}")
    for item in items:
        if "data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def astronaut_bgr() -> np.ndarray:
    """skimage's astronaut: one real, smiling, frontal face (512x512)."""
    import cv2
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture(scope="session")
def face_crop_bgr(astronaut_bgr) -> np.ndarray:
    """The astronaut cut to her face, brow to chin (110x110), as a profile picture or a data set's aligned face
    is: the detector alone finds no face in it."""
    return np.ascontiguousarray(astronaut_bgr[70:180, 170:280])


@pytest.fixture(scope="session")
def coffee_bgr() -> np.ndarray:
    """skimage's coffee cup: a real photo with no face."""
    import cv2
    from skimage import data

    return cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR)


def encode(image_bgr: np.ndarray, fmt: str = "PNG", **save_args) -> bytes:
    """Encode a BGR array in an image format with Pillow."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image_bgr[:, :, ::-1]).save(buffer, format=fmt, **save_args)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def astronaut_png(astronaut_bgr) -> bytes:
    return encode(astronaut_bgr)


@pytest.fixture(scope="session")
def face_predictor():
    from emotion_core.face.predictor import FacePredictor

    return FacePredictor.from_dir(MODELS)
