"""What each API endpoint accepts, field by field.

Every field is parsed and checked (type, range, length, encoding) before any work starts, and the OpenAPI
document describes the request bodies from the same declarations, so the two cannot drift apart. A JSON body
is bounded in size and nesting depth before it is parsed.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from emotion_core.errors import EmotionLensError
from emotion_core.fusion.windows import METHODS
from emotion_core.media import MAX_TEXT_CHARS

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in a JSON body (the API's own bodies are one level deep)."""
MAX_NAME_CHARS = 255
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")
_KEPT_CONTROLS = "\t\n\r"


class RequestError(EmotionLensError):
    """The request itself is malformed: bad JSON, a missing or ill-typed field, invalid base64 (400)."""


class BodyTooLarge(RequestError):
    """The body is larger than the endpoint accepts (413)."""


class UnsupportedContentType(RequestError):
    """The body is neither JSON nor a form where the endpoint expects one of them (415)."""


def _clean(value: str, field: str, *, name: bool) -> str:
    """``value`` as storable text: a lone surrogate (not UTF-8) is refused; control characters are dropped
    (in names all of them, in texts all but tab and line breaks)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RequestError(f"{field}: not valid UTF-8 text (a lone surrogate at position {exc.start}).") from None
    kept = "" if name else _KEPT_CONTROLS
    return "".join(ch for ch in value if ch in kept or unicodedata.category(ch) != "Cc")


@dataclass(frozen=True)
class Field:
    """One request field.

    ``type`` is ``boolean``, ``integer``, ``number``, ``text`` (user text, line breaks kept) or ``name`` (a file
    name or label, one line). Form fields arrive as strings and are converted; JSON values must already have
    the type (a number may not be a string there, a boolean may be).
    """

    name: str
    type: str
    description: str = ""
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()

    def parse(self, raw: Any, *, from_form: bool) -> Any:
        """The checked value; :class:`RequestError` naming the field otherwise."""
        if raw is None:
            return self.default
        parse = {"boolean": self._boolean, "integer": self._integer, "number": self._number,
                 "text": self._string, "name": self._string}[self.type]
        return parse(raw, from_form)

    def _fail(self, expected: str, raw: Any) -> RequestError:
        shown = repr(raw) if len(repr(raw)) <= 40 else repr(raw)[:37] + "..."
        return RequestError(f"{self.name}: expected {expected}, got {shown}.")

    def _boolean(self, raw: Any, from_form: bool) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE + _FALSE:
            return raw.strip().lower() in _TRUE
        raise self._fail("true or false", raw)

    def _in_range(self, value: float, expected: str) -> None:
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise RequestError(f"{self.name}: expected {expected} from {self.minimum:g} to {self.maximum:g}, "
                               f"got {value:g}.")

    def _integer(self, raw: Any, from_form: bool) -> int:
        if from_form and isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d{1,12}\s*", raw):
            raw = int(raw)
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise self._fail("a whole number", raw)
        self._in_range(raw, "a whole number")
        return raw

    def _number(self, raw: Any, from_form: bool) -> float:
        if from_form and isinstance(raw, str) and len(raw) <= 32:
            with contextlib.suppress(ValueError):
                raw = float(raw)
        if not isinstance(raw, (int, float)) or isinstance(raw, bool) or not math.isfinite(raw):
            raise self._fail("a finite number", raw)
        self._in_range(float(raw), "a number")
        return float(raw)

    def _string(self, raw: Any, from_form: bool) -> str:
        if not isinstance(raw, str):
            raise self._fail("a string", raw)
        if self.max_length is not None and len(raw) > self.max_length:
            raise RequestError(f"{self.name}: {len(raw):,} characters is more than the {self.max_length:,} "
                               "accepted.")
        value = _clean(raw, self.name, name=self.type == "name")
        if self.choices and value not in self.choices:
            raise RequestError(f"{self.name}: expected one of {', '.join(self.choices)}, got {value!r}.")
        return value.strip() if self.type == "name" else value

    def schema(self) -> dict[str, Any]:
        """The field as an OpenAPI (JSON Schema) property."""
        schema: dict[str, Any] = {"type": "string" if self.type in ("text", "name") else self.type}
        if self.choices:
            schema = {"enum": list(self.choices)}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.default is not None:
            schema["default"] = self.default
        if self.description:
            schema["description"] = self.description
        return schema


KEEP_MEDIA = Field("keep_media", "boolean", "store the upload, and the words of a text or transcript, with the "
                   "analysis (without it only labels, probabilities and spans are stored)", default=False)
FILENAME = Field("filename", "name", "the file's name, shown in the history (JSON bodies)",
                 max_length=MAX_NAME_CHARS)
FACE_MODEL = Field("face_model", "name", "face_expression (default) or seed002_hybrid", max_length=64)
PHOTO_DETECTORS = ("blazeface", "blazeface-short", "mtcnn")
"""The detectors a request may choose: those on ONNX Runtime, which request threads can share."""
DETECTOR = Field("detector", "text", "face detector: mtcnn (default; finds small faces), blazeface (a few "
                 "times faster, misses small faces) or blazeface-short (faces close to a webcam)",
                 choices=PHOTO_DETECTORS)

FIELDS: dict[str, tuple[Field, ...]] = {
    "image": (KEEP_MEDIA, FACE_MODEL, DETECTOR, FILENAME),
    "video": (KEEP_MEDIA, FACE_MODEL, FILENAME,
              Field("stride", "integer", "analyse every n-th frame", default=1, minimum=1, maximum=1000)),
    "audio": (KEEP_MEDIA, FILENAME,
              Field("job", "boolean", "analyse as a background job: 202 and a job to poll; needed for recordings "
                                      "longer than the synchronous limit (5 minutes by default)", default=False)),
    "text": (Field("text", "text", "the text to analyse", max_length=MAX_TEXT_CHARS),
             Field("source", "name", "a name for the text in the history", default="text",
                   max_length=MAX_NAME_CHARS),
             Field("explain", "boolean", "word attributions", default=True), KEEP_MEDIA),
    "multimodal": (KEEP_MEDIA, FILENAME,
                   Field("text", "text", "a transcript without times (or send a transcript file)",
                         max_length=MAX_TEXT_CHARS),
                   Field("method", "text", "how the modalities are fused", default="weighted",
                         choices=METHODS),
                   Field("window_s", "number", "fusion window in seconds", default=1.0, minimum=0.1, maximum=60)),
    "share": (Field("shared", "boolean", "true: every signed-in user sees the analysis, viewers too; false: only "
                    "its owner and the admins"),),
}
"""The fields of each analysis endpoint (``/analyze/<kind>``), beside its file fields, and of ``share``
(``PATCH /analyses/{analysis_id}``)."""


def parse_fields(kind: str, body: Mapping[str, Any], *, from_form: bool, ignore: tuple[str, ...] = ()
                 ) -> dict[str, Any]:
    """Every field of endpoint ``kind`` from ``body``, checked; an unknown field is refused by name."""
    fields = {f.name: f for f in FIELDS[kind]}
    unknown = sorted(set(body) - set(fields) - set(ignore))
    if unknown:
        raise RequestError(f"unknown field {unknown[0][:40]!r}; this endpoint takes "
                           f"{', '.join([*ignore, *fields])}.")
    return {name: field.parse(body.get(name), from_form=from_form) for name, field in fields.items()}


def json_depth(body: bytes, *, chunk: int = 1 << 22) -> int:
    """How deeply arrays and objects nest in a JSON text, in one linear pass and without parsing it.

    Brackets inside strings do not count; a quote after an odd run of backslashes does not end a string. The
    body is scanned in chunks, so memory stays small for a large upload.
    """
    depth = deepest = backslashes = quotes = 0  # carried from one chunk to the next
    for offset in range(0, len(body), chunk):
        data = np.frombuffer(body, dtype=np.uint8, count=min(chunk, len(body) - offset), offset=offset)
        quote = data == ord('"')
        is_backslash = data == ord("\\")
        if backslashes or is_backslash.any():  # rare outside long texts: only then work out escapes
            index = np.arange(len(data), dtype=np.int64)
            run = index - np.maximum.accumulate(np.where(is_backslash, -1 - backslashes, index))
            quote[0] &= backslashes % 2 == 0
            quote[1:] &= run[:-1] % 2 == 0
            backslashes = int(run[-1]) if is_backslash[-1] else 0
        quote_count = np.cumsum(quote, dtype=np.int64)
        quote_count += quotes
        outside = (quote_count & 1) == 0
        steps = ((data == ord("[")) | (data == ord("{"))).view(np.int8) - ((data == ord("]")) | (data == ord("}")))
        levels = np.cumsum(steps * outside, dtype=np.int64)
        levels += depth
        deepest = max(deepest, int(levels.max()))
        depth, quotes = int(levels[-1]), int(quote_count[-1])
    return deepest


def parse_json(body: bytes, *, max_bytes: int) -> dict[str, Any]:
    """A JSON object from a request body, bounded in size and depth before parsing."""
    if len(body) > max_bytes:
        raise BodyTooLarge(f"the JSON body is {len(body):,} bytes, more than the {max_bytes:,} accepted here.")
    # Counting brackets is cheap; only a body with more of them than the limit may nest too deep (base64 has none).
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and json_depth(body) > MAX_JSON_DEPTH:
        raise RequestError(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels.")
    try:
        parsed = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise RequestError(f"the body is not valid JSON ({exc.__class__.__name__}).") from None
    if not isinstance(parsed, dict):
        raise RequestError("the body is not a JSON object.")
    return parsed
