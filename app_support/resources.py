"""Core objects the pages share, each built once per server process with ``st.cache_resource``."""

from __future__ import annotations

import copy

import streamlit as st

from emotion_core.accounts import Accounts
from emotion_core.config import Settings
from emotion_core.face.detection import load_detector
from emotion_core.face.predictor import FACE_MODEL, FacePredictor
from emotion_core.modelcard import list_cards, load_benchmark
from emotion_core.predictors import Predictors, load_predictors
from emotion_core.speech.predictor import SpeechPredictor
from emotion_core.storage.store import HistoryStore
from emotion_core.text.predictor import TextPredictor


@st.cache_resource
def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource
def predictors() -> Predictors:
    """Every session's predictors: each model loads once per server process, on first use (thread-safe).

    The functions below only add a spinner while a model loads for the first time.
    """
    return load_predictors(settings())


@st.cache_resource(show_spinner="Loading the face model…")
def face_predictor(detector: str, model: str = FACE_MODEL) -> FacePredictor:
    """A shipped face model with the named detector (ONNX Runtime sessions are safe to share)."""
    return predictors().face(model, detector=detector)


@st.cache_data
def face_model_names() -> dict[str, str]:
    """Face models in models/, file stem -> model id (ours first)."""
    return predictors().face_models()


@st.cache_data
def model_cards() -> list[dict]:
    return list_cards(settings().models_dir)


def live_predictor(detector: str, model: str = FACE_MODEL) -> FacePredictor:
    """A predictor for one webcam stream: the shared classifier with a detector of its own.

    OpenCV's Haar cascade is not safe to call from two threads, so every stream gets its own detector.
    """
    own = copy.copy(face_predictor(detector, model))
    own.detector = load_detector(detector, models_dir=settings().models_dir)
    return own


@st.cache_resource(show_spinner="Opening the history database…")
def store() -> HistoryStore:
    return HistoryStore.open(settings().sqlalchemy_url, media_dir=settings().media_dir)


@st.cache_resource
def accounts() -> Accounts:
    return Accounts(store())


@st.cache_resource(show_spinner="Loading the text model…")
def text_predictor() -> TextPredictor:
    return predictors().text()


@st.cache_resource(show_spinner="Loading the speech model…")
def speech_predictor() -> SpeechPredictor:
    return predictors().speech()


@st.cache_resource(show_spinner="Loading the speaker-calibrated speech model…")
def calibrated_speech_predictor() -> SpeechPredictor:
    """The calibrated model without a profile: ``for_speaker`` gives each speaker their own copy."""
    return predictors().calibrated_speech()


@st.cache_data
def benchmark(name: str) -> dict | None:
    """A committed benchmark result, or None when it has not been run."""
    return load_benchmark(settings().benchmarks_dir, name)
