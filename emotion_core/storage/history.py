"""Turn each kind of analysis into a stored record; pages, the API and the CLI all save through here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emotion_core.face.analysis import ImageAnalysis
from emotion_core.labels import EMOTIONS
from emotion_core.multimodal import MultimodalAnalysis
from emotion_core.result import score_column, score_columns, scores_from_row
from emotion_core.speech.analysis import AudioAnalysis
from emotion_core.storage.db import Analysis, User
from emotion_core.storage.store import HistoryStore, result_row
from emotion_core.text.analysis import TextAnalysis
from emotion_core.video import VideoAnalysis


def frame_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Video or live frame rows (see :meth:`emotion_core.stream.FrameReport.rows`) as timeline rows."""
    stored = []
    for row in rows:
        face = row["label"] != "no face"
        stored.append({
            "modality": "face", "start_s": row["time_s"], "end_s": None,
            "track": str(row["track_id"]) if face else None, "label": row["label"],
            "confidence": row.get("confidence"),
            "detail": {"frame": row["frame"], **({"box": [row[k] for k in ("box_x", "box_y", "box_w", "box_h")]}
                                                  if face and "box_x" in row else {})},
            **score_columns(scores_from_row(row)),
        })
    return stored


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
    from emotion_core.stream import emotion_shares

    return _save_frames(store, user, "video", analysis.source, analysis.rows, settings=settings, media=media,
                        summary={"frames_read": analysis.frames_read, "frames_analysed": analysis.frames_analysed,
                                 "fps": analysis.fps, "cancelled": analysis.cancelled,
                                 "shares": emotion_shares(analysis.table()),
                                 "tracks": analysis.track_summary().round(4).to_dict(orient="records")})


def save_live(store: HistoryStore, user: User, rows: Sequence[dict[str, Any]], *, settings: dict[str, Any],
              summary: dict[str, Any]) -> Analysis:
    """Store a webcam session (frames are never kept, only the results)."""
    return _save_frames(store, user, "live", "webcam session", rows, settings=settings, summary=summary)


def _save_frames(store, user, kind, source, rows, *, settings, summary, media=None) -> Analysis:
    return store.save_analysis(user=user, kind=kind, source_name=source, rows=frame_rows(rows), settings=settings,
                               summary=summary, label=_dominant([r["label"] for r in rows]), media=media,
                               media_suffix=Path(source).suffix)


def save_text(store: HistoryStore, user: User, analysis: TextAnalysis, *, media: bytes | None = None) -> Analysis:
    """Store a text's sentences (the text itself only when the user keeps it, as the 'media')."""
    rows = [{**result_row(result, track=None), "detail": {"model_id": result.model_id, "chars": [s.start, s.end],
                                                          "compound": mood["compound"]}}
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
    rows = frame_rows(analysis.video.rows)
    if analysis.audio:
        rows += [result_row(s, track=i + 1) for i, s in enumerate(analysis.audio.segments)]
    for cue, result in analysis.cues:
        row = {**result_row(result, start_s=cue.start_s), "end_s": cue.end_s}
        if media is not None:
            row["detail"] = {**row["detail"], "text": cue.text[:500]}
        rows.append(row)
    for window in analysis.windows:
        if window.fused is not None:
            rows.append({**result_row(window.fused), "start_s": window.start_s, "end_s": window.end_s,
                         "detail": {"contributions": window.contributions, "disagreement": window.disagreement}})
    fused = [w.fused.label for w in analysis.windows if w.fused is not None]
    return store.save_analysis(
        user=user, kind="multimodal", source_name=analysis.source, rows=rows, label=_dominant(fused),
        summary={"duration_s": round(analysis.duration_s, 2), "missing": analysis.missing, "notes": analysis.notes,
                 "disagreeing_windows": sum(w.disagreement for w in analysis.windows)},
        settings={"method": analysis.method, "window_s": analysis.window_s, "weights": analysis.weights},
        media=media, media_suffix=Path(analysis.source).suffix,
    )


_BATCH_MODALITY = {"image": "face", "video": "face", "audio": "speech", "text": "text"}


def _batch_rows(kind: str, table) -> list[dict[str, Any]]:
    """Timeline rows from a ``batch`` items table (the columns of ``analyze --csv``) for one file."""
    records = table.astype(object).where(table.notna(), None).to_dict(orient="records")
    if kind == "video":
        return frame_rows(records)
    rows = []
    for i, r in enumerate(records):
        if r.get("label") not in EMOTIONS:  # a skipped row of a table
            continue
        detail = {k: r[k] for k in ("model_id", "compound") if r.get(k) is not None}
        if r.get("box_x") is not None:
            detail["box"] = [int(r[k]) for k in ("box_x", "box_y", "box_w", "box_h")]
        track = r.get("row") or r.get("segment") or r.get("sentence") or i + 1
        rows.append({"modality": _BATCH_MODALITY[kind], "start_s": r.get("start_s"), "end_s": r.get("end_s"),
                     "track": str(track), "label": r["label"], "confidence": r.get("confidence"), "detail": detail,
                     **score_columns(scores_from_row(r))})
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
