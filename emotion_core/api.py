"""The JSON API: a Flask blueprint over the same core the pages use, and the app factory that serves it.

Run it with ``python -m emotion_core serve`` (waitress). Every endpoint but ``health`` and ``openapi.json``
needs ``Authorization: Bearer <token>`` (``python -m emotion_core token create --user NAME``). Errors are
``{"error": {"type", "message"}}`` with a 4xx status (503 when a model is missing); no traceback leaves the
server.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from emotion_core.accounts import Accounts
from emotion_core.analysis import analyze_image
from emotion_core.audio_analysis import analyze_audio
from emotion_core.config import Settings
from emotion_core.db import Analysis, Job, User
from emotion_core.errors import (
    AuthenticationFailed,
    EmotionLensError,
    InvalidInputError,
    LimitReached,
    ModelUnavailableError,
    NotFound,
    PermissionDenied,
    UnsupportedMediaError,
)
from emotion_core.fusion import METHODS, default_weights
from emotion_core.history import save_audio, save_image, save_multimodal, save_text, save_video
from emotion_core.jobs import JobRunner, job_json
from emotion_core.modelcard import list_cards
from emotion_core.multimodal import analyze_multimodal
from emotion_core.permissions import require
from emotion_core.store import HistoryStore
from emotion_core.text_analysis import analyze_text
from emotion_core.video import analyze_video

if TYPE_CHECKING:
    from emotion_core.speech import SpeechPredictor
    from emotion_core.text import TextPredictor

logger = logging.getLogger(__name__)

_STATUS = [(AuthenticationFailed, 401), (PermissionDenied, 403), (NotFound, 404), (UnsupportedMediaError, 415),
           (InvalidInputError, 422), (LimitReached, 429), (ModelUnavailableError, 503)]


class RequestError(EmotionLensError):
    """The request itself is malformed: bad JSON, a missing field, invalid base64 (400)."""


@dataclass
class ApiServices:
    """What the endpoints work with, built once in :func:`create_app`."""

    def face(self, name: str | None = None):
        """The named face model (default: our CNN); an unknown name is a bad request."""
        name = name or next(iter(self.faces))
        if name not in self.faces:
            raise RequestError(f"face_model must be one of {', '.join(self.faces)}, got {name!r}.")
        return self.faces[name]

    def speech(self) -> SpeechPredictor:
        """The speech model, loaded on first use: while its files are missing, speech requests get a 503."""
        from emotion_core.speech import SpeechPredictor

        return self._model("speech", SpeechPredictor.from_dir)

    def speech_for_speaker(self, recordings: list[tuple[bytes, str]]) -> SpeechPredictor:
        """The speaker-calibrated model with the profile of these (data, name) recordings of the speaker."""
        from emotion_core.audio import decode_audio
        from emotion_core.speech import CALIBRATED_SPEECH_MODEL, SpeechPredictor, speaker_profile

        model = self._model("speech_calibrated",
                            lambda models_dir: SpeechPredictor.from_dir(models_dir, model=CALIBRATED_SPEECH_MODEL))
        return model.for_speaker(speaker_profile([decode_audio(data, name=name,
                                                               max_seconds=self.settings.max_audio_seconds)
                                                  for data, name in recordings]))

    def text(self) -> TextPredictor:
        """The text model, loaded on first use (503 while missing)."""
        from emotion_core.text import TextPredictor

        return self._model("text", TextPredictor.from_dir)

    def _model(self, kind: str, load: Callable[[Path], Any]) -> Any:
        if kind not in self.loaded:
            self.loaded[kind] = load(self.settings.models_dir)
        return self.loaded[kind]

    settings: Settings
    faces: dict[str, Any]  # face model name -> FacePredictor (our CNN first)
    store: HistoryStore
    accounts: Accounts
    jobs: JobRunner
    loaded: dict[str, Any] = field(default_factory=dict)  # speech and text predictors once loaded


def error_response(kind: str, message: str, status: int):
    return jsonify({"error": {"type": kind, "message": message}}), status


def _status_for(exc: EmotionLensError) -> int:
    return next((status for cls, status in _STATUS if isinstance(exc, cls)), 400)


def _flag(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


def _upload(field: str) -> tuple[bytes, str, dict[str, Any]]:
    """The file from a multipart form (``field``) or from JSON (``{field}_base64``), its name and the options."""
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise RequestError("the body is not a JSON object.")
        encoded = body.get(f"{field}_base64")
        if not isinstance(encoded, str):
            raise RequestError(f"missing field {field}_base64 (the file, base64-encoded).")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(f"{field}_base64 is not valid base64.") from None
        return data, str(body.get("filename") or field), body
    upload = request.files.get(field)
    if upload is None:
        raise RequestError(f"missing file field {field!r} (multipart/form-data) or a JSON body with "
                           f"{field}_base64.")
    return upload.read(), upload.filename or field, dict(request.form)


def _saved(result: dict[str, Any], analysis: Analysis) -> dict[str, Any]:
    return {**result, "analysis_id": analysis.id,
            "alerts": [{"rule": a.rule_name, "start_s": a.start_s, "end_s": a.end_s, "detail": a.detail}
                       for a in analysis.alerts]}


def _queued(job: Job):
    """202 Accepted with the job and where to poll it."""
    return jsonify({**job_json(job), "status_url": f"{request.script_root}/api/v1/jobs/{job.id}"}), 202


def create_api_blueprint(services: ApiServices) -> Blueprint:
    """The ``/api/v1`` endpoints over ``services``."""
    api = Blueprint("api", __name__)
    public = {"api.health", "api.openapi"}

    @api.before_request
    def authenticate():
        if request.endpoint in public:
            return None
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return error_response("AuthenticationFailed", "send Authorization: Bearer <token>.", 401)
        g.user = services.accounts.user_for_token(header.removeprefix("Bearer ").strip())
        return None

    @api.errorhandler(EmotionLensError)
    def known_error(exc: EmotionLensError):
        body, status = error_response(type(exc).__name__, str(exc), _status_for(exc))
        if isinstance(exc, LimitReached):
            body.headers["Retry-After"] = str(exc.retry_after_s)
        return body, status

    @api.get("/health")
    def health():
        return jsonify({"status": "ok", "models": [c["name"] for c in list_cards(services.settings.models_dir)]})

    @api.get("/openapi.json")
    def openapi():
        from emotion_core.openapi import openapi_document

        return jsonify(openapi_document())

    @api.get("/models")
    def models():
        require(g.user, "view")
        return jsonify({"models": list_cards(services.settings.models_dir)})

    @api.post("/analyze/image")
    def image():
        user: User = g.user
        require(user, "analyze")
        data, name, options = _upload("image")
        face = services.face(options.get("face_model"))
        analysis = analyze_image(data, face, source=name, max_pixels=services.settings.max_image_pixels)
        saved = save_image(services.store, user, analysis, settings={"detector": face.detector.name,
                                                                     "face_model": face.model_id},
                           media=data if _flag(options.get("keep_media")) else None)
        return jsonify(_saved(analysis.to_dict(), saved))

    @api.post("/analyze/video")
    def video():
        user: User = g.user
        require(user, "analyze")
        data, name, options = _upload("video")
        stride = int(options.get("stride") or 1)
        keep = _flag(options.get("keep_media"))
        face = services.face(options.get("face_model"))

        def work(progress) -> dict[str, Any]:
            result = analyze_video(data, face, name=name, stride=stride, annotate=False,
                                   max_bytes=services.settings.max_upload_bytes, progress=progress)
            saved = save_video(services.store, user, result, settings={"stride": stride},
                               media=data if keep else None)
            return _saved(result.to_dict(), saved)

        return _queued(services.jobs.submit(work, user_id=user.id, kind="video"))

    @api.post("/analyze/audio")
    def audio():
        user: User = g.user
        require(user, "analyze")
        data, name, options = _upload("audio")
        calibration = [(f.read(), f.filename or "calibration") for f in request.files.getlist("calibration")]
        predictor = services.speech_for_speaker(calibration) if calibration else services.speech()
        analysis = analyze_audio(data, predictor, name=name, max_seconds=services.settings.max_audio_seconds)
        saved = save_audio(services.store, user, analysis, media=data if _flag(options.get("keep_media")) else None,
                           media_suffix=Path(name).suffix)
        return jsonify(_saved(analysis.to_dict(), saved))

    @api.post("/analyze/text")
    def text():
        user: User = g.user
        require(user, "analyze")
        body = request.get_json(silent=True) if request.mimetype == "application/json" else dict(request.form)
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise RequestError("send JSON {\"text\": \"...\"} (or a form field text).")
        analysis = analyze_text(body["text"], services.text(), source=str(body.get("source") or "text"),
                                explain=_flag(body.get("explain", True)))
        saved = save_text(services.store, user, analysis,
                          media=analysis.text.encode() if _flag(body.get("keep_media")) else None)
        return jsonify(_saved(analysis.to_dict(), saved))

    @api.post("/analyze/multimodal")
    def multimodal():
        user: User = g.user
        require(user, "analyze")
        data, name, options = _upload("video")
        transcript = request.files.get("transcript")
        transcript_bytes = transcript.read() if transcript is not None else options.get("text")
        method = str(options.get("method") or "weighted")
        window_s = float(options.get("window_s") or 1.0)
        keep = _flag(options.get("keep_media"))
        if method not in METHODS or not 0.1 <= window_s <= 60:
            raise RequestError(f"method must be one of {', '.join(METHODS)} and window_s between 0.1 and 60.")
        weights = default_weights(list_cards(services.settings.models_dir))

        def work(progress) -> dict[str, Any]:
            result = analyze_multimodal(
                data, face=services.face(), speech=services.speech(), text=services.text(), name=name,
                transcript=transcript_bytes, transcript_name=transcript.filename if transcript else "text.txt",
                weights=weights, method=method, window_s=window_s, max_bytes=services.settings.max_upload_bytes,
                max_seconds=services.settings.max_audio_seconds, progress=progress)
            saved = save_multimodal(services.store, user, result, media=data if keep else None)
            return _saved(result.to_dict(with_text=keep), saved)

        return _queued(services.jobs.submit(work, user_id=user.id, kind="multimodal"))

    @api.get("/jobs/<job_id>")
    def job(job_id: str):
        user: User = g.user
        require(user, "view")
        return jsonify(job_json(services.jobs.get(job_id, user)))

    return api


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The Flask app: settings from the environment (and ``config``, e.g. ``{"home": path}`` in tests), models
    and the store loaded once, the blueprint under ``/api/v1``, and JSON for every error."""
    from emotion_core.predictors import face_models, load_face_predictor

    overrides = {k: Path(v) if k in ("home", "models_dir") else v for k, v in (config or {}).items()}
    settings = replace(Settings.from_env(), **overrides)
    store = HistoryStore.open(settings.sqlalchemy_url, media_dir=settings.media_dir)
    services = ApiServices(settings=settings,
                           faces={name: load_face_predictor(settings.models_dir, model=name)
                                  for name in face_models(settings.models_dir)},
                           store=store, accounts=Accounts(store),
                           jobs=JobRunner(store, max_per_user=settings.max_jobs_per_user))
    app = Flask("emotion_core.api")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.json.sort_keys = False
    app.extensions["emotion_lens"] = services
    app.register_blueprint(create_api_blueprint(services), url_prefix="/api/v1")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # 404, 405, 413 ... as JSON (blueprint handlers miss routing errors)
        return error_response(exc.name.replace(" ", ""), exc.description or exc.name, exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response("InternalError", "the server failed unexpectedly; the error is logged.", 500)

    return app
