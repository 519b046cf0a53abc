"""An archive of media files as units of work: find the files, tell their kinds, hash them, cut long ones into
parts, and analyse one part into the rows ``analyze --csv`` prints for it.

Nothing here imports Ray: :mod:`emotion_core.batch.runner` runs these functions on a Ray cluster, and they stay testable
(and usable) without one.
"""

from __future__ import annotations

import glob
import hashlib
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from emotion_core.config import Settings
from emotion_core.errors import InvalidInputError
from emotion_core.labels import EMOTIONS
from emotion_core.predictors import Predictors
from emotion_core.result import score_column, score_columns

KINDS = ("image", "video", "audio", "text")
TEXT_TYPES = ("txt",)


def file_kind(path: str | Path) -> str | None:
    """``image``, ``video``, ``audio`` or ``text`` from the file's extension; None for anything else."""
    from emotion_core.face.video import VIDEO_TYPES
    from emotion_core.media import IMAGE_TYPES, TABLE_TYPES
    from emotion_core.speech.audio import AUDIO_TYPES

    suffix = Path(path).suffix.lower().lstrip(".")
    for kind, types in (("image", IMAGE_TYPES), ("video", VIDEO_TYPES), ("audio", AUDIO_TYPES),
                        ("text", TEXT_TYPES + TABLE_TYPES)):
        if suffix in types:
            return kind
    return None


@dataclass(frozen=True)
class Missing:
    """An input that names nothing: a path that does not exist, or a glob that matches no file."""

    input: str
    reason: str


def expand_inputs(inputs: Iterable[str]) -> tuple[list[Path], list[Missing]]:
    """The files named by ``inputs``, each once, in a stable order.

    An input is a folder (every file under it, hidden ones excepted), a glob (``clips/**/*.mp4``), ``@LIST`` (a
    text file naming one path per line, relative to the list's folder; ``#`` starts a comment) or a file.
    """
    found: dict[Path, None] = {}
    missing: list[Missing] = []

    def add(item: str, base: Path | None = None) -> None:
        path = Path(item).expanduser()
        if base is not None and not path.is_absolute():
            path = Path(os.path.normpath(base / path))  # one name per file, so that duplicates fold
        if item.startswith("@"):
            listing = Path(item[1:]).expanduser()
            try:
                lines = listing.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                missing.append(Missing(item, f"the list cannot be read ({exc.__class__.__name__})"))
                return
            for line in lines:
                if line.strip() and not line.lstrip().startswith("#"):
                    add(line.strip(), listing.parent)
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
                    found[child] = None
        elif path.is_file():
            found[path] = None
        elif glob.has_magic(str(path)):
            matches = [Path(p) for p in sorted(glob.glob(str(path), recursive=True)) if Path(p).is_file()]
            if not matches:
                missing.append(Missing(item, "the pattern matches no file"))
            found.update(dict.fromkeys(matches))
        else:
            missing.append(Missing(item, "no such file or folder"))

    for item in inputs:
        add(str(item))
    return list(found), missing


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's content, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Part:
    """One unit of work: a whole file, or a time range of a video, or a row range of a table.

    ``start`` and ``stop`` are seconds (video) or row numbers (tables), ``stop`` -1 meaning the end; ``offset``
    is the index of the part's first item in the whole file (analysed frame, or row), so numbering stays
    continuous across parts.
    """

    file: str
    sha256: str
    kind: str
    part: int = 0
    parts: int = 1
    start: float = 0.0
    stop: float = -1.0
    offset: int = 0

    @property
    def key(self) -> str:
        """A name for the part's results, unique per content and part."""
        return f"{self.sha256[:20]}-{self.part:04d}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_file(path: Path, *, kind: str, sha256: str, settings: Settings, stride: int = 1, column: str = "text",
              part_seconds: float = 60.0, part_rows: int = 5000) -> list[Part]:
    """The parts of one file: videos longer than ``part_seconds`` and tables longer than ``part_rows`` are cut.

    Raises
    ------
    InvalidInputError
        The file is larger than ``settings.max_upload_bytes``, a video that cannot be opened, or a table that
        cannot be read or lacks ``column``.
    """
    size = path.stat().st_size
    if size > settings.max_upload_bytes:
        raise InvalidInputError(f"{path}: {size / 2**20:,.0f} MB is more than the "
                                f"{settings.max_upload_bytes / 2**20:,.0f} MB limit (EMOTION_LENS_MAX_UPLOAD_BYTES).")
    base = Part(file=str(path), sha256=sha256, kind=kind)
    if kind == "video":
        from emotion_core.face.video import probe_video

        probe = probe_video(path, name=str(path), max_bytes=settings.max_upload_bytes)
        if not probe.duration_s or not probe.fps or probe.duration_s <= part_seconds:
            return [base]
        frames = max(stride, int(part_seconds * probe.fps) // stride * stride)  # whole strides: numbering holds
        seconds = frames / probe.fps
        count = math.ceil(probe.duration_s / seconds)
        return [Part(file=str(path), sha256=sha256, kind=kind, part=i, parts=count, start=i * seconds,
                     stop=-1.0 if i == count - 1 else (i + 1) * seconds, offset=i * frames // stride)
                for i in range(count)]
    if kind == "text" and path.suffix.lower() != ".txt":
        rows = len(_table_column(path, column))
        count = max(1, math.ceil(rows / part_rows))
        return [Part(file=str(path), sha256=sha256, kind=kind, part=i, parts=count, start=i * part_rows,
                     stop=min(rows, (i + 1) * part_rows), offset=i * part_rows) for i in range(count)]
    return [base]


def _table_column(path: Path, column: str, *, start: int = 0, stop: int | None = None):
    from emotion_core.media import read_table

    frame = read_table(path, start=start, stop=stop)
    if column not in frame.columns:
        raise InvalidInputError(f"{path}: no column {column!r}; the columns are "
                                f"{', '.join(map(str, frame.columns))} (choose one with --column).")
    return frame


_DETECTOR_CARDS = {"blazeface": ("blazeface_full_range", "blazeface_short_range"),
                   "blazeface-short": ("blazeface_short_range",),
                   "mtcnn": ("mtcnn",)}  # haar is OpenCV's, without a card


class PredictorSet:
    """The predictors a worker needs, by kind of input: the models of :class:`~emotion_core.predictors.Predictors`,
    each loaded on first use and then kept (one per worker, never per file).

    Parameters
    ----------
    models_dir : Path
    face_model : str, default="face_expression"
    detector : str, default="blazeface"
        The video frames' face detector.
    photo_detector : str, default="mtcnn"
        The photos' face detector.
    """

    def __init__(self, *, models_dir: Path, face_model: str = "face_expression", detector: str = "blazeface",
                 photo_detector: str = "mtcnn"):
        self.models_dir = Path(models_dir)
        self.face_model = face_model
        self.detector = detector
        self.photo_detector = photo_detector
        self._predictors = Predictors(models_dir=self.models_dir, face_detector=detector)

    def get(self, kind: str):
        """The predictor for ``image`` or ``video`` (face), ``audio`` (speech) or ``text``."""
        if kind == "image":
            return self._predictors.face(self.face_model, detector=self.photo_detector)
        if kind == "video":
            return self._predictors.face(self.face_model)
        return self._predictors.speech() if kind == "audio" else self._predictors.text()

    def model_ids(self, kinds: Sequence[str]) -> dict[str, str]:
        """The model ids (from the cards, nothing loaded) used for ``kinds``."""
        from emotion_core.modelcard import load_card
        from emotion_core.speech.predictor import SPEECH_MODEL
        from emotion_core.text.predictor import TEXT_MODEL

        names: dict[str, str] = {}
        if {"image", "video"} & set(kinds):
            names["face"] = self.face_model
            detectors = [self.detector] * ("video" in kinds) + [self.photo_detector] * ("image" in kinds)
            stems = dict.fromkeys(stem for detector in detectors for stem in _DETECTOR_CARDS.get(detector, ()))
            for i, stem in enumerate(stems):
                names[f"face_detector_{i + 1}"] = stem
        if "audio" in kinds:
            names["speech"] = SPEECH_MODEL
        if "text" in kinds:
            names["text"] = TEXT_MODEL
        return {role: load_card(self.models_dir, stem)["model_id"] for role, stem in names.items()}


def analyze_part(part: Part, predictors: PredictorSet, *, settings: Settings, stride: int = 1,
                 column: str = "text") -> tuple[Any, dict[str, Any]]:
    """Analyse one part: the table ``analyze --csv`` prints for it, with ``file``, ``sha256`` and ``part`` in front,
    and what else is known about it (duration, frames, warnings, and its :func:`part_totals`).

    Raises
    ------
    EmotionLensError
        What the single-file analysis raises for a broken, unsupported or oversized file.
    """
    from emotion_core.media import read_file

    path = Path(part.file)
    info: dict[str, Any] = {}
    if part.kind == "image":
        from emotion_core.face.analysis import analyze_image

        table = analyze_image(read_file(path), predictors.get("image"), source=part.file,
                              max_pixels=settings.max_image_pixels).face_table()
    elif part.kind == "video":
        from emotion_core.face.video import analyze_video

        analysis = analyze_video(path, predictors.get("video"), name=part.file, stride=stride, annotate=False,
                                 max_bytes=settings.max_upload_bytes, start_s=part.start,
                                 end_s=None if part.stop < 0 else part.stop)
        table = analysis.table()
        if len(table):
            table["frame"] += part.offset
        info = {"frames_read": analysis.frames_read, "frames_analysed": analysis.frames_analysed,
                "fps": round(analysis.fps, 3), "warnings": analysis.warnings}
    elif part.kind == "audio":
        from emotion_core.speech.analysis import analyze_audio

        analysis = analyze_audio(path, predictors.get("audio"), name=part.file, max_seconds=settings.max_audio_seconds)
        table = analysis.segment_table()
        info = {"duration_s": round(analysis.audio.seconds, 3),
                "warnings": [analysis.reason] if analysis.reason else []}
    elif path.suffix.lower() == ".txt":
        from emotion_core.text.analysis import analyze_text

        analysis = analyze_text(read_file(path), predictors.get("text"), source=part.file, explain=False)
        table = analysis.sentence_table()
        info = {"warnings": [analysis.warning] if analysis.warning else []}
    else:
        from emotion_core.text.analysis import analyze_text_column

        frame = _table_column(path, column, start=int(part.start), stop=None if part.stop < 0 else int(part.stop))
        table = analyze_text_column(frame, column, predictors.get("text"), source=part.file)
        table.insert(0, "row", range(part.offset + 1, part.offset + len(table) + 1))
    for position, (name, value) in enumerate((("file", part.file), ("sha256", part.sha256), ("part", part.part))):
        table.insert(position, name, value)
    info["totals"] = part_totals(table)
    return table, info


def part_totals(table: Any) -> dict[str, Any]:
    """What a part adds to its file's summary: its items, those with an emotion, and the sums of their
    probabilities; made in the worker, so that the driver never reads a part's rows back."""
    scored = table[table["label"].isin(EMOTIONS)] if "label" in table else table.iloc[:0]
    return {"items": len(table), "items_with_emotion": len(scored),
            "p_sums": {e: float(scored[score_column(e)].sum()) if len(scored) else 0.0 for e in EMOTIONS}}


def summarize_file(parts: Sequence[Part], infos: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One row of the per-file summary from its parts' ``info`` (see :func:`analyze_part`): counts, the mean of
    the items' probabilities and its top label.

    Items without an emotion (a frame without a face, a skipped row) count in ``items`` but not in the means.
    """
    first = parts[0]
    scored = sum(info["totals"]["items_with_emotion"] for info in infos)
    means = ({e: sum(info["totals"]["p_sums"][e] for info in infos) / scored for e in EMOTIONS}
             if scored else {e: None for e in EMOTIONS})
    warnings = [w for info in infos for w in info.get("warnings", []) if w]
    return {
        "file": first.file, "sha256": first.sha256, "kind": first.kind, "bytes": Path(first.file).stat().st_size,
        "parts": len(parts), "items": sum(info["totals"]["items"] for info in infos),
        "items_with_emotion": scored,
        "label": max(means, key=means.get) if scored else None,
        **{f"mean_{column}": mean for column, mean in score_columns(means).items()},
        "duration_s": sum(info.get("duration_s", 0.0) for info in infos) or None,
        "frames_analysed": sum(info.get("frames_analysed", 0) for info in infos) or None,
        "warnings": " | ".join(warnings) or None,
    }
