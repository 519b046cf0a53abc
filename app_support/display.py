"""How stored figures read on the pages: tables with plain headers, shares in %, "—" for nothing, and an
analysis's settings and summary as labelled fields. Downloads keep the raw column names and numbers."""

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from emotion_core.labels import EMOJI, EMOTIONS
from emotion_core.result import SCORE_COLUMNS, EmotionResult

NOTHING = "—"

HEADERS = {
    "id": "#", "created_at": "When (UTC)", "user": "By", "kind": "Kind", "source": "File or source",
    "label": "Emotion", "dominant": "Dominant emotion", "shared": "Shared", "media kept": "File kept",
    "modality": "Modality", "start_s": "From (s)", "end_s": "To (s)", "time_s": "Time (s)", "frame": "Frame",
    "first_s": "First seen (s)", "last_s": "Last seen (s)", "frames": "Frames", "track": "Face",
    "track_id": "Face", "confidence": "Confidence", "text": "Words", "rule": "Rule", "analysis": "Analysis",
    "from_s": "From (s)", "to_s": "To (s)", "detail": "What happened", "acknowledged_by": "Acknowledged by",
    "compound": "Sentiment (compound)", "sentence": "Sentence", "analyses": "Analyses", "row": "Row",
    "face_label": "Face", "speech_label": "Speech", "text_label": "Text", "disagreement": "Modalities disagree",
    "face_share": "Face's share", "speech_share": "Speech's share", "text_share": "Text's share",
    "uncertain": "Uncertain", "uncertain_reason": "Why uncertain", "face_uncertain": "Face uncertain",
    "speech_uncertain": "Speech uncertain", "text_uncertain": "Text uncertain",
}
"""Plain headers for the raw column names of :mod:`emotion_core.analytics` and :mod:`emotion_core.face.stream`."""

FIELDS = {
    "detector": "Face detector", "face_model": "Face model", "stride": "Analysed every n-th frame",
    "detect_every": "Faces detected every n-th frame", "smoothing": "Smoothing", "explain": "Word attributions",
    "column": "CSV column", "method": "Fusion", "window_s": "Fusion window", "weights": "Modality weights",
    "faces": "Faces found", "labels": "Emotions", "image": "Image size", "frames_read": "Frames read",
    "frames_analysed": "Frames analysed", "fps": "Frames per second", "cancelled": "Stopped early",
    "shares": "Share of time", "tracks": "Face tracks", "overall": "Overall", "sentiment": "Sentiment",
    "sentences": "Sentences", "warning": "Warning", "rows": "Rows", "skipped": "Rows skipped",
    "duration_s": "Duration", "segments": "Voiced segments", "reason": "Note", "missing": "Not available",
    "notes": "Notes", "disagreeing_windows": "Windows where the modalities disagree", "frames": "Frames",
}
"""Labels for the keys of an analysis's ``settings`` and ``summary`` (see :mod:`emotion_core.storage.history`)."""


def _is_share(column: str) -> bool:
    return (column in EMOTIONS or column in SCORE_COLUMNS or column == "confidence"
            or column.endswith(("_share", "_uncertain")))


def _header(column: str) -> str:
    emotion = dict(zip(SCORE_COLUMNS, EMOTIONS)).get(column, column)
    return f"{EMOJI[emotion]} {emotion}" if emotion in EMOTIONS else HEADERS.get(column, column)


def show_table(table: pd.DataFrame) -> None:
    """``st.dataframe`` of :func:`displayed` with plain headers, probabilities and confidences in %."""
    shown = displayed(table)
    config = {column: st.column_config.NumberColumn(_header(column), format="percent") if _is_share(column)
              else _header(column) for column in shown.columns}
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)


def displayed(table: pd.DataFrame) -> pd.DataFrame:
    """The table with "—" where text is missing and yes/no in a column of flags with gaps (each column of one type,
    as Arrow needs: a video's ``uncertain`` flags have gaps at the frames without a face)."""
    shown = table.copy()
    for column in shown.select_dtypes(include="object").columns:
        shown[column] = shown[column].map(_cell)
    return shown


def _cell(value: Any) -> Any:
    return NOTHING if value is None or value != value else field_value("", value) if isinstance(value, bool) else value


def field_value(key: str, value: Any) -> str:
    """One setting or summary value in words: units, % for shares, "—" for nothing."""
    if value is None or value == [] or value == {}:
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "image":
        return f"{value['width']} × {value['height']} px"
    if key == "overall":
        return f"{value['label']} ({value['confidence']:.0%} confident)"
    if key == "sentiment":
        return f"{value['polarity']} (compound {value['compound']:+.2f})"
    if key in ("shares", "weights"):
        return ", ".join(f"{name} {share:.0%}" for name, share in sorted(value.items(), key=lambda kv: -kv[1]))
    if isinstance(value, Mapping):
        return ", ".join(f"{name}: {field_value(name, item)}" for name, item in value.items())
    if isinstance(value, list):
        return f"{len(value)}" if isinstance(value[0], Mapping) else ", ".join(map(str, value))
    if key.endswith("_s"):
        return f"{value:g} s"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def show_fields(values: Mapping[str, Any]) -> None:
    """Labelled fields, one a line; a list of records (face tracks) follows as its own table."""
    lines = [f"**{FIELDS.get(key, key.replace('_', ' ').capitalize())}:** {field_value(key, value)}"
             for key, value in values.items()]
    st.markdown("  \n".join(lines) or NOTHING)
    for key, value in values.items():
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            st.caption(FIELDS.get(key, key))
            show_table(pd.DataFrame(value))


_READS = {"face": ("the expression of a face in a photo or a video frame", "photos of faces", "face"),
          "speech": ("the tone of a voice (not its words)", "recordings", "recording"),
          "text": ("the words of an English text", "texts", "text")}
"""Per modality: what a model reads, what its test items are, one item."""
MODALITY_TITLES = {"face": "Faces", "speech": "Voices", "text": "Texts"}


def model_in_plain_words(card: Mapping[str, Any]) -> str:
    """A model card's gist for a reader without the research background: what it reads, how often it was right
    on data it never saw against chance, where it is strongest and weakest, and how fast its evaluation ran (on
    the evaluation's machine, which is not the reader's, and with the item's reading and preparing included)."""
    reads, items, item = _READS[card["modality"]]
    splits = [name for name, value in card.get("metrics", {}).items() if isinstance(value, dict)]
    if not splits:
        return f"Reads {reads}. It has not been evaluated yet."
    report = card["metrics"][splits[-1]]
    f1 = {label: figures["f1"] for label, figures in report["per_class"].items()}
    cpu = (report.get("machine") or card.get("machine") or {}).get("cpu", "the computer that evaluated it")
    speed = (f" In its evaluation ({cpu}) it took about {report['ms_per_item']:.0f} ms a {item}, reading and "
             "preparing it included." if "ms_per_item" in report else "")
    return (f"Reads {reads}. On {report['n']:,} {items} it never saw (the {splits[-1]} set), it named the right "
            f"emotion **{report['accuracy']:.0%}** of the time, where guessing among {len(f1)} would be right "
            f"{1 / len(f1):.0%} of the time. Most reliable on **{max(f1, key=f1.get)}**, least on "
            f"**{min(f1, key=f1.get)}**.{speed}")


def text_models_compared(card: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of a text card's comparison: every model measured on each corpus' test split (the shipped one first,
    then its teacher and the other models the card holds, named by their comparison key and model id, as runs of
    one recipe on one day share an id), their macro-F1 per corpus."""
    models = {f"{card['model_id']} (shipped)": card.get("metrics", {})}
    if teacher := card.get("training", {}).get("teacher"):
        models["its teacher, MiniLM-L6 fine-tuned"] = teacher["test"]
    models |= {f"{key}: {entry['model_id']}": entry["test"] for key, entry in card.get("comparison", {}).items()
               if isinstance(entry, dict) and isinstance(entry.get("test"), dict) and "model_id" in entry}
    rows = []
    for name, tests in models.items():
        figures = {corpus.removesuffix("_test"): row.get("macro_f1") for corpus, row in tests.items()
                   if isinstance(row, dict)}
        if figures:
            rows.append({"model": name, **figures})
    return rows if len(rows) > 1 else []


def confidence_words(result: EmotionResult) -> str:
    """How sure a result is, in words: its confidence, or that it is uncertain (its confidence then means
    little, so it is not put first)."""
    return f"uncertain ({result.confidence:.0%})" if result.uncertain else f"{result.confidence:.0%} confident"
