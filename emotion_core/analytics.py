"""Tables for the History and Analytics pages, built from stored analyses."""

from __future__ import annotations

from collections.abc import Sequence

from emotion_core.labels import EMOTIONS
from emotion_core.result import SCORE_COLUMNS
from emotion_core.storage.db import Alert, Analysis

NO_RESULT = "no result"
"""The category of an analysis without a dominant emotion (no face, no voice, nothing said): counted too."""
OUTCOMES = (*EMOTIONS, NO_RESULT)


def analyses_table(analyses: Sequence[Analysis]):
    """One row per analysis: id, when, who, kind, source, dominant label, rows, alerts, shared, media kept."""
    import pandas as pd

    return pd.DataFrame([{
        "id": a.id, "created_at": a.created_at, "user": a.user.name, "kind": a.kind, "source": a.source_name,
        "label": a.label, "shared": a.shared, "media kept": a.media_file is not None,
    } for a in analyses], columns=["id", "created_at", "user", "kind", "source", "label", "shared", "media kept"])


def rows_table(analysis: Analysis):
    """The stored timeline of one analysis, one row per face, frame, segment or sentence."""
    import pandas as pd

    return pd.DataFrame([{
        "modality": r.modality, "start_s": r.start_s, "end_s": r.end_s, "track": r.track, "label": r.label,
        "confidence": r.confidence, **{column: getattr(r, column) for column in SCORE_COLUMNS},
    } for r in analysis.rows], columns=["modality", "start_s", "end_s", "track", "label", "confidence",
                                        *SCORE_COLUMNS])


def transcript_table(analysis: Analysis):
    """The transcript cues of an analysis whose words were kept (only with the upload), with times and labels."""
    import pandas as pd

    return pd.DataFrame([{"start_s": r.start_s, "end_s": r.end_s, "text": r.detail["text"], "label": r.label}
                         for r in analysis.rows if "text" in r.detail], columns=["start_s", "end_s", "text", "label"])


PERIODS = {"day": ("D", "%Y-%m-%d"), "week": ("W", "week of %Y-%m-%d"), "month": ("M", "%Y-%m")}


def _outcomes(analyses: Sequence[Analysis]):
    """:func:`analyses_table` with every analysis's outcome: its dominant emotion, or :data:`NO_RESULT`."""
    table = analyses_table(analyses)
    table["label"] = table["label"].fillna(NO_RESULT)
    return table


def headline(analyses: Sequence[Analysis], alerts: Sequence[Alert]) -> dict:
    """The numbers above the charts: analyses, the share with a result, the most common emotion (None without
    any) and the alerts raised on these analyses."""
    labels = [a.label for a in analyses if a.label is not None]
    ids = {a.id for a in analyses}
    return {"analyses": len(analyses), "with_result": len(labels) / len(analyses) if analyses else 0.0,
            "most_common": max(EMOTIONS, key=labels.count) if labels else None,
            "alerts": sum(alert.analysis_id in ids for alert in alerts)}


def label_counts_over_time(analyses: Sequence[Analysis], *, period: str = "day"):
    """The outcome of each analysis counted per day, week or month (UTC); ``period`` labels are text."""
    import pandas as pd

    table = _outcomes(analyses)
    if table.empty:
        return pd.DataFrame(columns=["period", "label", "analyses"])
    freq, label_format = PERIODS[period]
    starts = pd.to_datetime(table["created_at"], utc=True).dt.tz_localize(None).dt.to_period(freq).dt.start_time
    table["period"] = starts.dt.strftime(label_format)
    return table.groupby(["period", "label"]).size().rename("analyses").reset_index()


def label_shares_by(analyses: Sequence[Analysis], column: str):
    """Share of each outcome among the analyses of each ``kind`` or ``user`` (rows sum to 1), each analysis
    counted once."""
    import pandas as pd

    table = _outcomes(analyses)
    if table.empty:
        return pd.DataFrame(columns=[column, *OUTCOMES])
    shares = pd.crosstab(table[column], table["label"], normalize="index")
    return shares.reindex(columns=list(OUTCOMES), fill_value=0.0).reset_index()


def alerts_table(alerts: Sequence[Alert]):
    import pandas as pd

    return pd.DataFrame([{
        "id": a.id, "created_at": a.created_at, "rule": a.rule_name, "analysis": a.analysis_id,
        "source": a.analysis.source_name, "from_s": a.start_s, "to_s": a.end_s, "detail": a.detail,
        "acknowledged_by": a.acknowledged_by,
    } for a in alerts], columns=["id", "created_at", "rule", "analysis", "source", "from_s", "to_s", "detail",
                                 "acknowledged_by"])


def batch_folders(analyses: Sequence[Analysis]) -> list[str]:
    """The ``batch`` runs (their folders) that these analyses were imported from, newest import first."""
    return list(dict.fromkeys(a.summary["batch"] for a in analyses if a.summary.get("batch")))


def batch_file_means(analyses: Sequence[Analysis], batch: str):
    """One row per file of an imported batch: ``file``, ``kind``, ``label`` and the mean probability of each
    emotion over its items (see :func:`emotion_core.batch.archive.summarize_file`), the rows summing to 1 (0 for a file
    without any emotion found)."""
    import pandas as pd

    rows = [{"file": a.source_name, "kind": a.kind, "label": a.label,
             **{e: a.summary.get("mean", {}).get(e) or 0.0 for e in EMOTIONS}}
            for a in analyses if a.summary.get("batch") == batch]
    return pd.DataFrame(rows, columns=["file", "kind", "label", *EMOTIONS])
