"""Alert rules evaluated on an analysis' timeline.

Two kinds, both over the summed probability of a set of labels (by default the negative emotions):

- ``sustained``: the share stays above ``threshold`` for at least ``min_seconds`` in a row (a live session, a
  video, an audio file). At each moment the face, segment or sentence with the highest share counts.
- ``multimodal``: in some window of ``min_seconds``, at least two modalities (face, speech, text) average above
  ``threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

NEGATIVE = ("angry", "disgust", "fear", "sad")
RULE_KINDS = ("sustained", "multimodal")


@dataclass(frozen=True)
class Rule:
    """An alert rule (the database keeps the same fields, see :class:`emotion_core.db.AlertRule`)."""

    name: str
    kind: str
    labels: tuple[str, ...] = NEGATIVE
    threshold: float = 0.6
    min_seconds: float = 3.0
    rule_id: int | None = None


@dataclass(frozen=True)
class AlertEvent:
    """A rule that fired, over ``start_s`` to ``end_s`` of the timeline."""

    rule: Rule
    start_s: float
    end_s: float
    detail: str


def _share(row: dict, labels: Sequence[str]) -> float:
    return sum(float(row.get(f"p_{label}") or 0.0) for label in labels)


def _span(row: dict) -> tuple[float, float]:
    start = row.get("start_s")
    start = 0.0 if start is None else float(start)
    end = row.get("end_s")
    return start, start if end is None else float(end)


def _sustained(rule: Rule, rows: Sequence[dict]) -> list[AlertEvent]:
    by_time: dict[tuple[float, float], float] = {}
    for row in rows:
        if row.get("label") != "no face":
            span = _span(row)
            by_time[span] = max(by_time.get(span, 0.0), _share(row, rule.labels))
    points = sorted(by_time.items())
    # A frame without an end lasts until the next one: the typical gap between frames.
    step = min((b[0][0] - a[0][0] for a, b in zip(points, points[1:]) if b[0][0] > a[0][0]), default=0.0)
    events: list[AlertEvent] = []
    run: list[float] | None = None  # [start, end, peak] of the current stretch above the threshold

    def close() -> None:
        if run is not None and run[1] - run[0] >= rule.min_seconds:
            events.append(AlertEvent(rule, run[0], run[1], f"{'/'.join(rule.labels)} above {rule.threshold:.0%} "
                                     f"for {run[1] - run[0]:.1f} s (peak {run[2]:.0%})"))

    for (start, end), share in points:
        end = max(end, start + step)
        if share <= rule.threshold:
            close()
            run = None
        elif run is not None and start <= run[1] + 1e-9:
            run[1], run[2] = max(run[1], end), max(run[2], share)
        else:
            close()
            run = [start, end, share]
    close()
    return events


def _multimodal(rule: Rule, rows: Sequence[dict]) -> list[AlertEvent]:
    window = max(rule.min_seconds, 1e-6)
    buckets: dict[int, dict[str, list[float]]] = {}
    for row in rows:
        if row.get("label") == "no face" or row.get("modality") not in ("face", "speech", "text"):
            continue
        start, end = _span(row)
        for index in range(int(start // window), int(end // window) + 1):
            buckets.setdefault(index, {}).setdefault(row["modality"], []).append(_share(row, rule.labels))
    events = []
    for index in sorted(buckets):
        high = sorted(m for m, shares in buckets[index].items() if sum(shares) / len(shares) > rule.threshold)
        if len(high) >= 2:
            events.append(AlertEvent(rule, index * window, (index + 1) * window,
                                     f"{'/'.join(rule.labels)} above {rule.threshold:.0%} in {' and '.join(high)}"))
    return events


def evaluate_rules(rules: Sequence[Rule], rows: Sequence[dict]) -> list[AlertEvent]:
    """Every event of every rule on an analysis' rows (dicts with ``modality``, ``start_s``, ``end_s``,
    ``label`` and ``p_*``)."""
    events = []
    for rule in rules:
        if rule.kind == "sustained":
            events += _sustained(rule, rows)
        elif rule.kind == "multimodal":
            events += _multimodal(rule, rows)
        else:
            raise ValueError(f"rule kind must be one of {RULE_KINDS}, got {rule.kind!r}")
    return events
