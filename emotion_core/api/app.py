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
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from emotion_core.accounts import Accounts
from emotion_core.api.fields import (
    FILENAME,
    BodyTooLarge,
    RequestError,
    UnsupportedContentType,
    parse_fields,
    parse_json,
)
from emotion_core.config import Settings
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
from emotion_core.face.analysis import analyze_image
from emotion_core.face.video import VideoProbe, analyze_video, probe_video
from emotion_core.fusion.multimodal import analyze_multimodal, check_transcript
from emotion_core.fusion.windows import default_weights
from emotion_core.jobs import JobRunner, job_json
from emotion_core.media import MAX_TEXT_CHARS
from emotion_core.modelcard import list_cards
from emotion_core.permissions import require
from emotion_core.predictors import Predictors, load_predictors
from emotion_core.speech.analysis import analyze_audio
from emotion_core.speech.audio import decode_audio
from emotion_core.storage.db import Analysis, Job, User
from emotion_core.storage.history import save_audio, save_image, save_multimodal, save_text, save_video
from emotion_core.storage.store import HistoryStore
from emotion_core.text.analysis import analyze_text

if TYPE_CHECKING:
    from emotion_core.face.predictor import FacePredictor
    from emotion_core.speech.predictor import SpeechPredictor
    from emotion_core.text.predictor import TextPredictor

logger = logging.getLogger(__name__)

MAX_TEXT_BODY_BYTES = 16 * MAX_TEXT_CHARS
"""The largest text request: room for the longest text with every character escaped as JSON ``\\uXXXX``."""
MAX_SHARE_BODY_BYTES = 1024

_STATUS = [(LimitReached, 429), (AuthenticationFailed, 401), (PermissionDenied, 403), (NotFound, 404),
           (BodyTooLarge, 413), (UnsupportedContentType, 415), (UnsupportedMediaError, 415),
           (InvalidInputError, 422), (ModelUnavailableError, 503)]


@dataclass
class ApiServices:
    """What the endpoints work with, built once in :func:`create_app`."""

    def face(self, name: str | None = None, detector: str | None = None) -> FacePredictor:
        """The named face model (default: our CNN) with the named detector (default: BlazeFace); an unknown model
        is a bad request."""
        name = name or next(iter(self.faces))
        if name not in self.faces:
            raise RequestError(f"face_model must be one of {', '.join(self.faces)}, got {name!r}.")
        if detector in (None, self.faces[name].detector.name):
            return self.faces[name]
        return self.predictors.face(name, detector=detector)

    def speech(self) -> SpeechPredictor:
        """The speech model, loaded on first use: while its files are missing, speech requests get a 503."""
        return self.predictors.speech()

    def speech_for_speaker(self, recordings: list[tuple[bytes, str]]) -> SpeechPredictor:
        """The speaker-calibrated model with the profile of these (data, name) recordings of the speaker."""
        from emotion_core.speech.predictor import profile_from_recordings

        return self.predictors.calibrated_speech().for_speaker(
            profile_from_recordings(recordings, max_seconds=self.settings.max_calibration_seconds))

    def text(self) -> TextPredictor:
        """The text model, loaded on first use (503 while missing)."""
        return self.predictors.text()

    def analyze_long(self, kind: str, data: bytes, *, face_model: str | None, progress, **options: Any):
        """A job's video or multimodal analysis: on the Ray cluster when ``serve`` has one, else here."""
        if self.remote is not None:
            self.face(face_model)  # an unknown name is refused here, as it is without a cluster
            return self.remote.run(kind, data, face_model=face_model or next(iter(self.faces)), **options)
        if kind == "video":
            return analyze_video(data, self.face(face_model), progress=progress, **options)
        return analyze_multimodal(data, face=self.face(face_model), speech=self.speech(), text=self.text(),
                                  progress=lambda done, _stage: progress(done), **options)

    settings: Settings
    predictors: Predictors  # speech and text load on first use, once, whichever request comes first
    faces: dict[str, FacePredictor]  # face model name -> predictor (our CNN first), loaded in create_app
    store: HistoryStore
    accounts: Accounts
    jobs: JobRunner
    remote: Any = None  # RayAnalyses when serve runs its jobs on a Ray cluster


def error_response(kind: str, message: str, status: int):
    return jsonify({"error": {"type": kind, "message": message}}), status


def _status_for(exc: EmotionLensError) -> int:
    return next((status for cls, status in _STATUS if isinstance(exc, cls)), 400)


def _json_body(max_bytes: int) -> dict[str, Any]:
    """The JSON object of the request, refused before parsing when too large or too deeply nested."""
    if (request.content_length or 0) > max_bytes:
        raise BodyTooLarge(f"the body is {request.content_length:,} bytes, more than the {max_bytes:,} accepted "
                           "here.")
    return parse_json(request.get_data(cache=False), max_bytes=max_bytes)


def _form_fields(kind: str, files: tuple[str, ...]) -> dict[str, Any]:
    """The checked fields of a multipart form; a file field other than ``files`` is refused by name."""
    unknown = sorted(set(request.files) - set(files))
    if unknown:
        raise RequestError(f"unknown file field {unknown[0][:40]!r}; this endpoint takes "
                           f"{', '.join(files) or 'no file'}.")
    return parse_fields(kind, request.form.to_dict(), from_form=True)


def _upload(kind: str, files: tuple[str, ...], max_bytes: int) -> tuple[bytes, str, dict[str, Any]]:
    """The file of endpoint ``kind`` (``files[0]``) from a multipart form, or base64 from JSON
    (``{files[0]}_base64``), its name and the other fields, all checked before any work starts."""
    field = files[0]
    if request.mimetype == "application/json":
        body = _json_body(max_bytes)
        encoded = body.get(f"{field}_base64")
        if not isinstance(encoded, str):
            raise RequestError(f"missing field {field}_base64 (the file, base64-encoded).")
        options = parse_fields(kind, body, from_form=False, ignore=(f"{field}_base64",))
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(f"{field}_base64 is not valid base64.") from None
        return data, options["filename"] or field, options
    if request.mimetype != "multipart/form-data":
        raise UnsupportedContentType(f"send multipart/form-data with a file field {field!r}, or application/json "
                                     f"with {field}_base64; got {request.mimetype or 'no content type'}.")
    options = _form_fields(kind, files)
    upload = request.files.get(field)
    if upload is None:
        raise RequestError(f"missing file field {field!r} (multipart/form-data) or a JSON body with "
                           f"{field}_base64.")
    name = FILENAME.parse(upload.filename or field, from_form=True) or field
    return upload.read(), name, options


def _saved(result: dict[str, Any], analysis: Analysis) -> dict[str, Any]:
    return {**result, "analysis_id": analysis.id,
            "alerts": [{"rule": a.rule_name, "start_s": a.start_s, "end_s": a.end_s, "detail": a.detail}
                       for a in analysis.alerts]}


def _analysis_json(analysis: Analysis) -> dict[str, Any]:
    return {"analysis_id": analysis.id, "kind": analysis.kind, "source": analysis.source_name,
            "owner": analysis.user.name, "created_at": analysis.created_at.isoformat(), "shared": analysis.shared}


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
        g.user = services.accounts.user_for_token(header.removeprefix("Bearer ").strip(),
                                                  source=request.remote_addr or "")
        return None

    @api.errorhandler(EmotionLensError)
    def known_error(exc: EmotionLensError):
        response, status = error_response(type(exc).__name__, str(exc), _status_for(exc))
        if isinstance(exc, LimitReached):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response, status

    @api.get("/health")
    def health():
        return jsonify({"status": "ok", "models": [c["name"] for c in list_cards(services.settings.models_dir)]})

    @api.get("/openapi.json")
    def openapi():
        from emotion_core.api.openapi import openapi_document

        return jsonify(openapi_document())

    @api.get("/models")
    def models():
        require(g.user, "view")
        return jsonify({"models": list_cards(services.settings.models_dir)})

    @api.post("/analyze/image")
    def image():
        user: User = g.user
        require(user, "analyze")
        data, name, options = _upload("image", ("image",), services.settings.max_upload_bytes)
        face = services.face(options["face_model"], options["detector"] or services.settings.photo_detector)
        analysis = analyze_image(data, face, source=name, max_pixels=services.settings.max_image_pixels)
        saved = save_image(services.store, user, analysis, settings={"detector": face.detector.name,
                                                                     "face_model": face.model_id},
                           media=data if options["keep_media"] else None)
        return jsonify(_saved(analysis.to_dict(), saved))

    def probed_video(kind: str, files: tuple[str, ...]) -> tuple[bytes, str, dict[str, Any], VideoProbe]:
        """A video upload that opens and yields a frame, within the limits: only then is a job queued."""
        data, name, options = _upload(kind, files, services.settings.max_upload_bytes)
        probe = probe_video(data, name=name, max_bytes=services.settings.max_upload_bytes,
                            max_seconds=services.settings.max_video_seconds)
        return data, name, options, probe

    @api.post("/analyze/video")
    def video():
        user: User = g.user
        require(user, "analyze")
        data, name, options, _ = probed_video("video", ("video",))
        stride, keep, face_model = options["stride"], options["keep_media"], options["face_model"]
        services.face(face_model)  # an unknown model is a bad request now, not a failed job later

        def work(progress) -> dict[str, Any]:
            result = services.analyze_long("video", data, face_model=face_model, progress=progress, name=name,
                                           stride=stride, annotate=False,
                                           max_bytes=services.settings.max_upload_bytes)
            saved = save_video(services.store, user, result, settings={"stride": stride},
                               media=data if keep else None)
            return _saved(result.to_dict(), saved)

        return _queued(services.jobs.submit(work, user_id=user.id, kind="video"))

    @api.post("/analyze/audio")
    def audio():
        user: User = g.user
        require(user, "analyze")
        data, name, options = _upload("audio", ("audio", "calibration"), services.settings.max_upload_bytes)
        calibration = [(f.read(), FILENAME.parse(f.filename, from_form=True) or "calibration")
                       for f in request.files.getlist("calibration")]
        predictor = services.speech_for_speaker(calibration) if calibration else services.speech()
        limits = services.settings
        if options["job"]:
            recording = decode_audio(data, name=name, max_seconds=limits.max_audio_seconds)
        else:
            recording = decode_audio(data, name=name, max_seconds=limits.max_sync_audio_seconds,
                                     advice=f"send it with job=true to analyse up to "
                                            f"{limits.max_audio_seconds / 60:g} minutes as a job, or cut it.")
        keep = data if options["keep_media"] else None

        def work(progress) -> dict[str, Any]:
            analysis = analyze_audio(recording, predictor, name=name)
            saved = save_audio(services.store, user, analysis, media=keep, media_suffix=Path(name).suffix)
            return _saved(analysis.to_dict(), saved)

        if options["job"]:
            return _queued(services.jobs.submit(work, user_id=user.id, kind="audio"))
        return jsonify(work(lambda done: None))

    @api.post("/analyze/text")
    def text():
        user: User = g.user
        require(user, "analyze")
        if request.mimetype == "application/json":
            options = parse_fields("text", _json_body(MAX_TEXT_BODY_BYTES), from_form=False)
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if (request.content_length or 0) > MAX_TEXT_BODY_BYTES:
                raise BodyTooLarge(f"the body is more than the {MAX_TEXT_BODY_BYTES:,} bytes accepted here.")
            options = _form_fields("text", ())
        else:
            raise UnsupportedContentType('send JSON {"text": "..."} (or a form field text), got '
                                         f"{request.mimetype or 'no content type'}.")
        if options["text"] is None:
            raise RequestError('missing field text: send JSON {"text": "..."} (or a form field text).')
        analysis = analyze_text(options["text"], services.text(), source=options["source"] or "text",
                                explain=options["explain"])
        saved = save_text(services.store, user, analysis,
                          media=analysis.text.encode() if options["keep_media"] else None)
        return jsonify(_saved(analysis.to_dict(), saved))

    @api.post("/analyze/multimodal")
    def multimodal():
        user: User = g.user
        require(user, "analyze")
        data, name, options, _ = probed_video("multimodal", ("video", "transcript"))
        upload = request.files.get("transcript")
        if upload is not None:
            transcript_name = FILENAME.parse(upload.filename, from_form=True) or "transcript.txt"
            transcript = check_transcript(upload.read(), name=transcript_name)
        else:
            transcript_name, transcript = "text.txt", check_transcript(options["text"], name="text")
        method, window_s, keep = options["method"], options["window_s"], options["keep_media"]
        weights = default_weights(list_cards(services.settings.models_dir))

        def work(progress) -> dict[str, Any]:
            result = services.analyze_long(
                "multimodal", data, face_model=None, progress=progress, name=name, transcript=transcript,
                transcript_name=transcript_name, weights=weights, method=method, window_s=window_s,
                max_bytes=services.settings.max_upload_bytes, max_seconds=services.settings.max_audio_seconds)
            saved = save_multimodal(services.store, user, result, media=data if keep else None)
            return _saved(result.to_dict(with_text=keep), saved)

        return _queued(services.jobs.submit(work, user_id=user.id, kind="multimodal"))

    @api.patch("/analyses/<int:analysis_id>")
    def analysis(analysis_id: int):
        user: User = g.user
        if request.mimetype != "application/json":
            raise UnsupportedContentType('send JSON {"shared": true} or {"shared": false}, got '
                                         f"{request.mimetype or 'no content type'}.")
        shared = parse_fields("share", _json_body(MAX_SHARE_BODY_BYTES), from_form=False)["shared"]
        if shared is None:
            raise RequestError('missing field shared: send JSON {"shared": true} or {"shared": false}.')
        return jsonify(_analysis_json(services.store.set_shared(analysis_id, user, shared=shared)))

    @api.get("/jobs/<job_id>")
    def job(job_id: str):
        user: User = g.user
        require(user, "view")
        return jsonify(job_json(services.jobs.get(job_id, user)))

    return api


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The Flask app: settings from the environment (and ``config``, e.g. ``{"home": path}`` in tests), models
    and the store loaded once, the blueprint under ``/api/v1``, and JSON for every error."""
    overrides = {k: Path(v) if k in ("home", "models_dir") else v for k, v in (config or {}).items()}
    settings = replace(Settings.from_env(), **overrides)
    store = HistoryStore.open(settings.sqlalchemy_url, media_dir=settings.media_dir)
    predictors = load_predictors(settings)
    # Request threads share the face models, so they get BlazeFace (ONNX Runtime), never the Haar cascade.
    services = ApiServices(settings=settings, predictors=predictors,
                           faces={name: predictors.face(name, detector="blazeface")
                                  for name in predictors.face_models()},
                           store=store, accounts=Accounts(store),
                           jobs=JobRunner(store, max_per_user=settings.max_jobs_per_user))
    if settings.ray_address:
        from emotion_core.remote import RayAnalyses

        services.remote = RayAnalyses(settings.ray_address, settings=settings)
    app = Flask("emotion_core.api.app")
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
