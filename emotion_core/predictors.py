"""What every predictor is, and the one loader that every surface (app, API, CLI, batch workers) uses.

A predictor turns one modality's checked input into :class:`~emotion_core.result.EmotionResult` objects
(:class:`Predictor`). :func:`load_predictors` gives a :class:`Predictors`: the shipped models of ``models/``, each
loaded on first use and then shared. Surfaces decide how long it lives (``st.cache_resource``, the Flask app, one
CLI command); core keeps no global cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from emotion_core.config import Settings
from emotion_core.face.predictor import FACE_MODEL, FacePredictor
from emotion_core.modelcard import list_cards, load_card
from emotion_core.result import EmotionResult

if TYPE_CHECKING:
    from emotion_core.speech.predictor import SpeechPredictor
    from emotion_core.text.predictor import TextPredictor

_T = TypeVar("_T")


@runtime_checkable
class Predictor(Protocol):
    """The shape every recogniser shares, whatever its modality (scikit-learn's idea of a few common verbs).

    - ``modality``: the name of its modality in :mod:`emotion_core.modalities`.
    - ``labels``: the labels of its scores, :data:`~emotion_core.labels.EMOTIONS`.
    - ``model_id``: its card's ``model_id``, copied into every result.
    - ``predict(x)``: checks ``x`` first (raising :class:`~emotion_core.errors.InvalidInputError`), then returns one
      result per face, voiced segment or text; an empty list means nothing was found, which is an answer.

    ``__init__`` takes keyword arguments and only stores them, under the same names; weights and cards are read by
    a ``from_dir`` class method.
    """

    modality: str
    labels: Sequence[str]
    model_id: str

    def predict(self, x: Any, /) -> list[EmotionResult]: ...


def face_models(models_dir: str | Path) -> dict[str, str]:
    """Face-expression models present, file stem -> a label for menus (ours first)."""
    found = {c["name"]: f"{c['model_id']}" for c in list_cards(models_dir) if c.get("modality") == "face"
             and c.get("task") == "facial expression recognition"}
    return dict(sorted(found.items(), key=lambda item: item[0] != FACE_MODEL))


def load_face_predictor(models_dir: str | Path, *, model: str = FACE_MODEL, detector="blazeface") -> FacePredictor:
    """The named face model (our CNN, or seed 002's hybrid when its card says so) with the named (or given)
    detector."""
    from emotion_core.face.hybrid import HybridFacePredictor

    if load_card(models_dir, model).get("inference", {}).get("kind") == "hybrid":
        return HybridFacePredictor.from_dir(models_dir, model=model, detector=detector)
    return FacePredictor.from_dir(models_dir, model=model, detector=detector)


class Predictors:
    """The shipped predictors of one models folder, each loaded on first use and then shared.

    Thread-safe: when two threads (two API requests, two Streamlit sessions) ask for a model that is not loaded
    yet, it is loaded once and both get the same object. Sharing is safe because ONNX Runtime sessions may run
    concurrently; a face detector is not always (OpenCV's Haar cascade), so a live stream copies its predictor and
    gives the copy a detector of its own. A model whose files are missing raises
    :class:`~emotion_core.errors.ModelUnavailableError` each time it is asked for, until they are there.

    Parameters
    ----------
    models_dir : Path
        Folder with the models and their cards.
    face_detector : str, default="blazeface"
        The detector a face model gets unless another is named.
    """

    def __init__(self, *, models_dir: Path, face_detector: str = "blazeface"):
        self.models_dir = models_dir
        self.face_detector = face_detector
        self._loaded: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()

    def face_models(self) -> dict[str, str]:
        """Face models present, file stem -> model id (ours first)."""
        return face_models(self.models_dir)

    def face(self, model: str = FACE_MODEL, *, detector: str | None = None) -> FacePredictor:
        """A face model (a file stem of :meth:`face_models`) with the named detector (default: ``face_detector``)."""
        detector = detector or self.face_detector
        return self._get(("face", model, detector),
                         lambda: load_face_predictor(self.models_dir, model=model, detector=detector))

    def speech(self) -> SpeechPredictor:
        """The shipped speech model, with the self-calibrated one for long recordings when it is there (see
        :meth:`~emotion_core.speech.predictor.SpeechPredictor.for_recording`)."""
        from emotion_core.speech.predictor import SpeechPredictor

        return self._get(("speech",), lambda: SpeechPredictor.from_dir(self.models_dir))

    def calibrated_speech(self) -> SpeechPredictor:
        """The speaker-calibrated speech model, without a profile: ``for_speaker`` gives each speaker a copy."""
        from emotion_core.speech.predictor import CALIBRATED_SPEECH_MODEL, SpeechPredictor

        return self._get(("speech", CALIBRATED_SPEECH_MODEL),
                         lambda: SpeechPredictor.from_dir(self.models_dir, model=CALIBRATED_SPEECH_MODEL))

    def text(self) -> TextPredictor:
        """The shipped text model."""
        from emotion_core.text.predictor import TextPredictor

        return self._get(("text",), lambda: TextPredictor.from_dir(self.models_dir))

    def _get(self, key: tuple[str, ...], load: Callable[[], _T]) -> _T:
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = load()
            return self._loaded[key]


def load_predictors(settings: Settings) -> Predictors:
    """The predictors of ``settings.models_dir``, with ``settings.face_detector``; nothing is read until a model is
    asked for.

    Examples
    --------
    >>> predictors = load_predictors(Settings())
    >>> predictors.text().predict(["What a lovely surprise!"])[0].modality
    'text'
    """
    return Predictors(models_dir=settings.models_dir, face_detector=settings.face_detector)
