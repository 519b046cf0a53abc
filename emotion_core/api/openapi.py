"""The OpenAPI 3.1 document of the JSON API; the tests validate real responses against its schemas."""

from __future__ import annotations

from typing import Any

from emotion_core import __version__
from emotion_core.api.fields import FIELDS
from emotion_core.jobs import STATUSES
from emotion_core.labels import EMOTIONS
from emotion_core.modalities import FUSED, result_modalities
from emotion_core.text.analysis import MAX_OCCLUSIONS

_SCORES = {"type": "object", "properties": {e: {"type": "number", "minimum": 0, "maximum": 1} for e in EMOTIONS},
           "required": list(EMOTIONS), "additionalProperties": False}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["type", "message"],
        "properties": {"type": {"type": "string"}, "message": {"type": "string"}}}}},
    "EmotionResult": {
        "type": "object", "required": ["modality", "label", "confidence", "scores", "model_id", "latency_ms"],
        "properties": {
            "modality": {"enum": list(result_modalities())},
            "label": {"enum": list(EMOTIONS)},
            "confidence": {"type": "number"},
            "scores": _SCORES,
            "model_id": {"type": "string"},
            "latency_ms": {"type": "number"},
            "box": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4},
            "landmarks": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "number"}}},
            "detector_score": {"type": "number"},
            "span": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            "frame": {"type": "integer", "description": "the video frame a face was seen in"},
            "track_id": {"type": "integer", "description": "the face track (one person across frames)"},
            "uncertain": {"type": "boolean", "description": "true when the result should not be trusted"},
            "uncertain_reason": {"type": "string", "description": "why, present when uncertain is true"},
            "extra": {"type": "object"},
        },
    },
    "Alert": {"type": "object", "required": ["rule", "start_s", "end_s", "detail"],
              "properties": {"rule": {"type": "string"}, "start_s": {"type": "number"}, "end_s": {"type": "number"},
                             "detail": {"type": "string"}}},
    "ImageAnalysis": {
        "type": "object", "required": ["source", "modality", "image", "detector", "faces", "analysis_id", "alerts"],
        "properties": {
            "source": {"type": "string"}, "modality": {"const": "face"},
            "image": {"type": "object", "required": ["width", "height"],
                      "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}}},
            "detector": {"type": "string"},
            "faces": {"type": "array", "items": {"$ref": "#/components/schemas/EmotionResult"}},
            "reason": {"type": "string", "description": "present when no face was found"},
            "analysis_id": {"type": "integer"},
            "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
        },
    },
    "VideoAnalysis": {
        "type": "object", "required": ["source", "video", "tracks", "rows", "analysis_id", "alerts"],
        "properties": {
            "source": {"type": "string"}, "modality": {"const": "face"},
            "video": {"type": "object", "required": ["width", "height", "fps", "frames_read", "frames_analysed"]},
            "cancelled": {"type": "boolean"}, "warnings": {"type": "array", "items": {"type": "string"}},
            "tracks": {"type": "array", "items": {"type": "object"}},
            "rows": {"type": "array", "items": {"type": "object", "required": ["frame", "time_s", "label"]}},
            "analysis_id": {"type": "integer"},
            "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
        },
    },
    "AudioAnalysis": {
        "type": "object", "required": ["source", "modality", "duration_s", "overall", "segments", "analysis_id",
                                       "alerts"],
        "properties": {
            "source": {"type": "string"}, "modality": {"const": "speech"}, "duration_s": {"type": "number"},
            "overall": {"oneOf": [{"$ref": "#/components/schemas/EmotionResult"}, {"type": "null"}]},
            "segments": {"type": "array", "items": {"$ref": "#/components/schemas/EmotionResult"}},
            "reason": {"type": "string", "description": "present when there is too little voice to judge"},
            "calibration": {"type": "object", "minProperties": 1, "maxProperties": 1,
                            "properties": {"profile_segments": {"type": "integer", "minimum": 1},
                                           "recording_segments": {"type": "integer", "minimum": 1}},
                            "description": "present when the audio was calibrated: profile_segments when the "
                                           "speaker-calibrated model judged it with the given recordings, "
                                           "recording_segments when the recording was long enough to calibrate "
                                           "on itself"},
            "analysis_id": {"type": "integer"},
            "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
        },
    },
    "TextAnalysis": {
        "type": "object", "required": ["source", "modality", "overall", "sentiment", "sentences", "words",
                                       "analysis_id", "alerts"],
        "properties": {
            "source": {"type": "string"}, "modality": {"const": "text"},
            "overall": {"$ref": "#/components/schemas/EmotionResult"},
            "sentiment": {"type": "object", "required": ["compound", "positive", "neutral", "negative", "polarity"]},
            "sentences": {"type": "array", "items": {"type": "object", "required": ["start", "end", "text", "result"]}},
            "words": {"type": "array", "items": {"type": "object", "required": ["word", "start", "end", "weight"]},
                      "description": "the words the model reads (the first 48 tokens) of the first "
                                     "explained_sentences sentences"},
            "explained_sentences": {"type": "integer", "minimum": 0,
                                    "description": "how many sentences, from the first, have word weights: all "
                                                   "unless explain is false or the text needs more than "
                                                   f"{MAX_OCCLUSIONS:,} word variants"},
            "warning": {"type": "string"},
            "analysis_id": {"type": "integer"},
            "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
        },
    },
    "MultimodalAnalysis": {
        "type": "object", "required": ["source", "modality", "duration_s", "method", "window_s", "weights", "missing",
                                       "windows", "analysis_id", "alerts"],
        "properties": {
            "source": {"type": "string"}, "modality": {"const": FUSED}, "duration_s": {"type": "number"},
            "method": {"enum": ["weighted", "vote"]}, "window_s": {"type": "number"},
            "weights": {"type": "object", "additionalProperties": {"type": "number"}},
            "missing": {"type": "object", "additionalProperties": {"type": "string"}},
            "notes": {"type": "array", "items": {"type": "string"}},
            "face": {"type": "object"}, "speech": {"oneOf": [{"type": "object"}, {"type": "null"}]},
            "text": {"type": "array", "items": {"type": "object", "required": ["start_s", "end_s", "result"]},
                     "description": "the transcript cues; each cue's own words (text) only with keep_media"},
            "windows": {"type": "array", "items": {"type": "object", "required": ["start_s", "end_s", "label",
                                                                                   "disagreement"]}},
            "analysis_id": {"type": "integer"},
            "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
        },
    },
    "Job": {
        "type": "object", "required": ["job_id", "kind", "status", "progress", "created_at", "updated_at"],
        "properties": {
            "job_id": {"type": "string"}, "kind": {"type": "string"},
            "status": {"enum": list(STATUSES), "description":
                       "queued, running, then done (with the result), failed, or interrupted (the server restarted "
                       "before it finished: send the file again); done becomes deleted when its analysis is "
                       "deleted, and the stored result goes with it"},
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
            "created_at": {"type": "string"}, "updated_at": {"type": "string"},
            "status_url": {"type": "string"},
            "result": {"oneOf": [{"$ref": "#/components/schemas/VideoAnalysis"},
                                 {"$ref": "#/components/schemas/AudioAnalysis"},
                                 {"$ref": "#/components/schemas/MultimodalAnalysis"}]},
            "error": {"type": "object", "required": ["type", "message"],
                      "description": "why there is no result (failed, interrupted, deleted)"},
        },
    },
    "AnalysisRecord": {
        "type": "object", "required": ["analysis_id", "kind", "source", "owner", "created_at", "shared"],
        "properties": {"analysis_id": {"type": "integer"}, "kind": {"type": "string"}, "source": {"type": "string"},
                       "owner": {"type": "string"}, "created_at": {"type": "string"}, "shared": {"type": "boolean"}},
        "additionalProperties": False},
    "Health": {"type": "object", "required": ["status", "models"],
               "properties": {"status": {"const": "ok"}, "models": {"type": "array", "items": {"type": "string"}}}},
    "Models": {"type": "object", "required": ["models"],
               "properties": {"models": {"type": "array", "items": {
                   "type": "object", "required": ["name", "model_id"]}}}},
}


def _json(schema: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again",
                                 "schema": {"type": "integer"}}}


def _errors(*codes: int) -> dict[str, Any]:
    """Error responses; an endpoint that checks the token (401) may also answer 429: too many wrong tokens from
    this address lately, or (where jobs start) as many jobs under way as one user may have."""
    meaning = {400: "malformed request: the message names the field", 401: "missing or unknown token",
               403: "role not allowed, not the owner, or the account is disabled", 404: "not found",
               413: "body or upload too large", 415: "not the expected kind of file or body",
               422: "a file of the right kind that cannot be analysed",
               429: "too many wrong tokens from this address lately, or (where jobs start) max_jobs_per_user jobs "
                    "already queued or running", 503: "a model is missing"}
    codes = (*codes, 429) if 401 in codes else codes
    return {str(code): {"description": meaning[code], **({"headers": _RETRY_AFTER} if code == 429 else {}),
                        **_json("Error")} for code in codes}


def _properties(kind: str) -> dict[str, Any]:
    return {f.name: f.schema() for f in FIELDS[kind]}


def _upload_body(kind: str, field: str, types: str, **file_fields: dict[str, Any]) -> dict[str, Any]:
    form = {name: schema for name, schema in _properties(kind).items() if name != "filename"}
    return {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": [field], "properties": {
            field: {"type": "string", "format": "binary", "description": types}, **file_fields, **form},
            "additionalProperties": False}},
        "application/json": {"schema": {"type": "object", "required": [f"{field}_base64"], "properties": {
            f"{field}_base64": {"type": "string", "contentEncoding": "base64"}, **_properties(kind)},
            "additionalProperties": False}},
    }}


def openapi_document() -> dict[str, Any]:
    """The document served at ``/api/v1/openapi.json``."""
    secured = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Emotion Lens API", "version": __version__,
                 "description": "Emotion recognition from faces, speech and text, on this server only. Results are "
                                "probabilities, not facts; do not use them to make decisions about people."},
        "servers": [{"url": "/api/v1"}],
        "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/health": {"get": {"summary": "Liveness and the shipped models", "security": [],
                                "responses": {"200": {"description": "up", **_json("Health")}}}},
            "/openapi.json": {"get": {"summary": "This document", "security": [],
                                      "responses": {"200": {"description": "OpenAPI 3.1"}}}},
            "/models": {"get": {"summary": "Model cards", "security": secured,
                                "responses": {"200": {"description": "cards", **_json("Models")},
                                              **_errors(401, 403)}}},
            "/analyze/image": {"post": {
                "summary": "Every face in a photo; stored in the caller's history",
                "security": secured, "requestBody": _upload_body("image", "image", "JPEG, PNG, WebP or BMP"),
                "responses": {"200": {"description": "faces (an empty list and a reason when there is none)",
                                      **_json("ImageAnalysis")},
                              **_errors(400, 401, 403, 413, 415, 422, 503)}}},
            "/analyze/video": {"post": {
                "summary": "Start analysing a video; poll the job",
                "security": secured, "requestBody": _upload_body("video", "video", "mp4, avi, mov, mkv or webm"),
                "responses": {"202": {"description": "queued", **_json("Job")},
                              **_errors(400, 401, 403, 413, 415, 422)}}},
            "/analyze/audio": {"post": {
                "summary": "Speech emotion per voiced segment and for the whole recording",
                "security": secured, "requestBody": _upload_body(
                    "audio", "audio", "wav, flac, ogg, mp3, m4a, aac, or a video", calibration={
                        "type": "array", "items": {"type": "string", "format": "binary"},
                        "description": "other recordings of the same speaker, any emotion (repeat the field): the "
                                       "speaker-calibrated model judges the audio against this speaker's average "
                                       "voice; at least 5 voiced segments in all; never stored"}),
                "responses": {"200": {"description": "segments (none, and a reason, for silence)",
                                      **_json("AudioAnalysis")},
                              "202": {"description": "with job=true: queued", **_json("Job")},
                              **_errors(400, 401, 403, 413, 415, 422, 503)}}},
            "/analyze/text": {"post": {
                "summary": "Text emotion and VADER sentiment, overall, per sentence, with word attributions",
                "security": secured,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["text"], "properties": _properties("text"),
                    "additionalProperties": False}}}},
                "responses": {"200": {"description": "the analysis", **_json("TextAnalysis")},
                              **_errors(400, 401, 403, 413, 415, 422, 503)}}},
            "/analyze/multimodal": {"post": {
                "summary": "Start analysing a video's faces, speech and an optional transcript, fused; poll the job",
                "security": secured,
                "requestBody": _upload_body(
                    "multimodal", "video", "mp4, avi, mov, mkv or webm",
                    transcript={"type": "string", "format": "binary", "description": ".srt, .vtt or .txt"}),
                "responses": {"202": {"description": "queued", **_json("Job")},
                              **_errors(400, 401, 403, 413, 415, 422)}}},
            "/analyses/{analysis_id}": {"patch": {
                "summary": "Share an analysis with every user (viewers too), or stop sharing it: its owner or an "
                           "admin may", "security": secured,
                "parameters": [{"name": "analysis_id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["shared"], "properties": _properties("share"),
                    "additionalProperties": False}}}},
                "responses": {"200": {"description": "the analysis, as it is now", **_json("AnalysisRecord")},
                              **_errors(400, 401, 403, 404, 413, 415)}}},
            "/jobs/{job_id}": {"get": {
                "summary": "A job's status and, when done, its result", "security": secured,
                "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the job", **_json("Job")}, **_errors(401, 403, 404)}}},
        },
    }
