"""Turn each kind of analysis into a stored record; pages, the API and the CLI all save through here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from emotion_core.face.analysis import ImageAnalysis
from emotion_core.face.stream import FrameReport
from emotion_core.face.video import VideoAnalysis
from emotion_core.fusion.multimodal import MultimodalAnalysis
from emotion_core.labels import EMOTIONS
from emotion_core.result import EmotionResult, score_column, score_columns, scores_from_row
from emotion_core.speech.analysis import AudioAnalysis
from emotion_core.storage.db import Analysis, User
from emotion_core.storage.store import HistoryStore, no_face_row, result_row
from emotion_core.text.analysis import TextAnalysis


def frame_rows(frames: Sequence[FrameReport]) -> list[dict[str, Any]]:
    """Video or live frames as timeline rows: one per face (an instant at its frame's time, on its track), or
    one ``no face`` row for a frame without faces."""
    rows = []
    for frame in frames:
        rows += ([result_row(face, start_s=frame.time_s, track=face.track_id) for face in frame.faces]
                 or [no_face_row(frame.index, frame.time_s)])
    return rows


def _dominant(labels: Sequence[str]) -> str | None:
    labels = [label for label in labels if label in EMOTIONS]
    return Counter(labels).most_common(1)[0][0] if labels else None


def save_image(store: HistoryStore, user: User, analysis: ImageAnalysis, *, settings: dict[str, Any],
               media: bytes | None = None) -> Analysis:
    """Store a photo's faces; ``media`` (the uploaded file) only when the user chose to keep it."""
    faces = sorted(analysis.faces, key=lambda f: f.box[2] * f.box[3], reverse=True)
    return store.save_analysis(
        user=user, kind="image", source_name=analysis.source, label=faces[0].label if faces else None,
        rows=[result_row(face, track=i + 1) for i, face in enumerate(faces)], settings=settings,
        summary={"faces": len(faces), "labels": [f.label for f in faces],
                 "image": {"width": int(analysis.image.shape[1]), "height": int(analysis.image.shape[0])}},
        media=media, media_suffix=Path(analysis.source).suffix,
    )


def save_video(store: HistoryStore, user: User, analysis: VideoAnalysis, *, settings: dict[str, Any],
               media: bytes | None = None) -> Analysis:
    """Store a video's frame-by-frame timeline and its per-track summary."""
    from emotion_core.face.stream import emotion_shares

    table = analysis.table()
    return _save_frames(store, user, "video", analysis.source, analysis.frames, settings=settings, media=media,
                        summary={"frames_read": analysis.frames_read, "frames_analysed": analysis.frames_analysed,
                                 "fps": analysis.fps, "cancelled": analysis.cancelled,
                                 "shares": emotion_shares(table),
                                 "tracks": analysis.track_summary(table).round(4).to_dict(orient="records")})


def save_live(store: HistoryStore, user: User, frames: Sequence[FrameReport], *, settings: dict[str, Any],
              summary: dict[str, Any]) -> Analysis:
    """Store a webcam session (frames are never kept, only the results)."""
    return _save_frames(store, user, "live", "webcam session", frames, settings=settings, summary=summary)


def _save_frames(store, user, kind, source, frames, *, settings, summary, media=None) -> Analysis:
    return store.save_analysis(user=user, kind=kind, source_name=source, rows=frame_rows(frames), settings=settings,
                               summary=summary, label=_dominant([f.label for frame in frames for f in frame.faces]),
                               media=media, media_suffix=Path(source).suffix)


def save_text(store: HistoryStore, user: User, analysis: TextAnalysis, *, media: bytes | None = None) -> Analysis:
    """Store a text's sentences (the text itself only when the user keeps it, as the 'media')."""
    rows = [result_row(result, chars=[s.start, s.end], compound=mood["compound"])
            for s, result, mood in analysis.sentences]
    return store.save_analysis(
        user=user, kind="text", source_name=analysis.source, rows=rows, label=analysis.overall.label,
        summary={"overall": analysis.overall.to_dict(), "sentiment": analysis.sentiment,
                 "sentences": len(analysis.sentences), "warning": analysis.warning},
        settings={"explain": bool(analysis.words)}, media=media, media_suffix=".txt",
    )


def save_text_batch(store: HistoryStore, user: User, table, *, source: str, column: str) -> Analysis:
    """Store a CSV batch: one row per analysed line (skipped lines are counted in the summary)."""
    done = table[table["label"] != "(skipped)"]
    rows = [{"modality": "text", "start_s": None, "end_s": None, "track": str(int(r["row"])), "label": r["label"],
             "confidence": r["confidence"], "detail": {"compound": r["compound"]},
             **score_columns(scores_from_row(r))} for r in done.to_dict(orient="records")]
    return store.save_analysis(
        user=user, kind="text", source_name=source, rows=rows, label=_dominant(list(done["label"])),
        summary={"rows": len(table), "skipped": int((table["label"] == "(skipped)").sum()),
                 "labels": done["label"].value_counts().to_dict()}, settings={"column": column},
    )


def save_audio(store: HistoryStore, user: User, analysis: AudioAnalysis, *, media: bytes | None = None,
               media_suffix: str = ".wav") -> Analysis:
    """Store a recording's voiced segments (the sound only when the user keeps it)."""
    return store.save_analysis(
        user=user, kind="audio", source_name=analysis.audio.source,
        rows=[result_row(segment, track=i + 1) for i, segment in enumerate(analysis.segments)],
        label=analysis.overall.label if analysis.overall else None,
        summary={"duration_s": round(analysis.audio.seconds, 2), "segments": len(analysis.segments),
                 "overall": analysis.overall.to_dict() if analysis.overall else None, "reason": analysis.reason},
        settings={}, media=media, media_suffix=media_suffix,
    )


def save_multimodal(store: HistoryStore, user: User, analysis: MultimodalAnalysis, *,
                    media: bytes | None = None) -> Analysis:
    """Store every modality's observations and the fused windows on one timeline. The transcript's words are the
    user's, like the video: they are stored only with ``media`` (the user chose to keep the upload)."""
    rows = frame_rows(analysis.video.frames)
    if analysis.audio:
        rows += [result_row(s, track=i + 1) for i, s in enumerate(analysis.audio.segments)]
    rows += [result_row(replace(result, span=(cue.start_s, cue.end_s)),
                        **({"text": cue.text[:500]} if media is not None else {}))
             for cue, result in analysis.cues]
    rows += [result_row(replace(window.fused, span=(window.start_s, window.end_s)),
                        contributions=window.contributions, disagreement=window.disagreement)
             for window in analysis.windows if window.fused is not None]
    fused = [w.fused.label for w in analysis.windows if w.fused is not None]
    return store.save_analysis(
        user=user, kind="multimodal", source_name=analysis.source, rows=rows, label=_dominant(fused),
        summary={"duration_s": round(analysis.duration_s, 2), "missing": analysis.missing, "notes": analysis.notes,
                 "disagreeing_windows": sum(w.disagreement for w in analysis.windows)},
        settings={"method": analysis.method, "window_s": analysis.window_s, "weights": analysis.weights},
        media=media, media_suffix=Path(analysis.source).suffix,
    )


_BATCH_MODALITY = {"image": "face", "video": "face", "audio": "speech", "text": "text"}
_TRACK_COLUMNS = ("track_id", "segment", "sentence", "row")  # what numbers a file's results in its items table


def _batch_rows(kind: str, table) -> list[dict[str, Any]]:
    """Timeline rows from a ``batch`` items table (the columns of ``analyze --csv``) for one file. The speech and
    text tables name no modality or model, so the kind of file gives the one and the other stays unknown."""
    records = table.astype(object).where(table.notna(), None).to_dict(orient="records")
    rows = []
    for i, record in enumerate(records):
        if record.get("label") == "no face" and kind == "video":
            rows.append(no_face_row(int(record["frame"]), record["time_s"]))
        elif record.get("label") in EMOTIONS:  # not a skipped row of a table
            result = EmotionResult.from_row({"modality": _BATCH_MODALITY[kind], "model_id": "", **record})
            track = next((record[c] for c in _TRACK_COLUMNS if record.get(c) is not None), i + 1)
            detail = {"compound": record["compound"]} if record.get("compound") is not None else {}
            rows.append(result_row(result, start_s=record.get("time_s"), track=track, **detail))
    return rows


def import_batch(store: HistoryStore, user: User, out_dir: str | Path) -> tuple[list[Analysis], int]:
    """Record a ``batch`` run (its folder) in the history: one analysis per analysed file, with its rows.

    Files already imported by this user (same content hash, same batch folder) are left alone, so importing a
    resumed run again adds only its new files. Returns the new analyses and how many were there already.

    Raises
    ------
    InvalidInputError
        If ``out_dir`` holds no finished batch run.
    """
    import pandas as pd

    from emotion_core.errors import InvalidInputError

    out = Path(out_dir)
    if not (out / "files.parquet").exists():
        raise InvalidInputError(f"{out}: no batch run here (files.parquet is missing); run `batch --out {out}`.")
    files = pd.read_parquet(out / "files.parquet")
    files = files.astype(object).where(files.notna(), None)
    batch = str(out.resolve())
    present = {a.summary.get("sha256") for a in store.analyses(user, owner=user.name)
               if a.summary.get("batch") == batch}
    items: dict[str, Any] = {}
    saved = []
    for record in files.to_dict(orient="records"):
        if record["sha256"] in present:
            continue
        kind = record["kind"]
        if kind not in items:
            items[kind] = pd.read_parquet(out / "items" / f"{kind}.parquet")
        table = items[kind][items[kind]["sha256"] == record["sha256"]]
        means = {label: f"mean_{score_column(label)}" for label in EMOTIONS}  # as archive.summarize_file writes
        summary = {"batch": batch, **{k: v for k, v in record.items() if k not in means.values()},
                   "mean": {label: record.get(column) for label, column in means.items()}}
        saved.append(store.save_analysis(user=user, kind=kind, source_name=record["file"],
                                         rows=_batch_rows(kind, table), label=record["label"], summary=summary,
                                         settings={"batch": batch}))
    return saved, len(files) - len(saved)
