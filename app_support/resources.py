"""Core objects the pages share, each built once per server process with ``st.cache_resource``."""

from __future__ import annotations

import streamlit as st

from emotion_core.accounts import Accounts
from emotion_core.config import Settings
from emotion_core.detection import load_detector
from emotion_core.face import FacePredictor
from emotion_core.modelcard import list_cards
from emotion_core.speech import SpeechPredictor
from emotion_core.store import HistoryStore
from emotion_core.text import TextPredictor


@st.cache_resource
def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource(show_spinner="Loading the face model…")
def face_predictor(detector: str) -> FacePredictor:
    """The shipped face model with the named detector (ONNX Runtime sessions are safe to share)."""
    models_dir = settings().models_dir
    return FacePredictor.from_dir(models_dir, detector=load_detector(detector, models_dir=models_dir))


@st.cache_data
def model_cards() -> list[dict]:
    return list_cards(settings().models_dir)


def live_predictor(detector: str) -> FacePredictor:
    """A predictor for one webcam stream: the shared classifier with a detector of its own.

    OpenCV's Haar cascade is not safe to call from two threads, so every stream gets its own detector.
    """
    shared = face_predictor(detector)
    return FacePredictor(session=shared.session, detector=load_detector(detector, models_dir=settings().models_dir),
                         model_id=shared.model_id, flip_average=shared.flip_average)


@st.cache_resource(show_spinner="Opening the history database…")
def store() -> HistoryStore:
    return HistoryStore.open(settings().sqlalchemy_url, media_dir=settings().media_dir)


@st.cache_resource
def accounts() -> Accounts:
    return Accounts(store())


@st.cache_resource(show_spinner="Loading the text model…")
def text_predictor() -> TextPredictor:
    return TextPredictor.from_dir(settings().models_dir)


@st.cache_resource(show_spinner="Loading the speech model…")
def speech_predictor() -> SpeechPredictor:
    return SpeechPredictor.from_dir(settings().models_dir)
