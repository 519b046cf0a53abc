"""Alert rules evaluated on an analysis' timeline, as the history store keeps it.

Two kinds, both over the summed probability (the *share*) of a set of labels (by default the negative emotions):

- ``sustained``: the share stays above ``threshold`` for at least ``min_seconds`` (a live session, a video, an
  audio file). At each moment the face, segment or sentence with the highest share counts.
- ``multimodal``: in some window of ``min_seconds``, at least two modalities (face, speech, text) average above
  ``threshold``.

How long a ``sustained`` stretch lasts is the time its observations cover. Frame times are stored to the
millisecond (30 frames/s alternate 33 and 34 ms) and live frames arrive 0.1 to 0.9 s apart, so no fixed frame
step is assumed:

- a speech segment, a sentence or a fused window covers its own ``start_s`` to ``end_s``;
- a frame (a row without ``end_s``) covers the time until the next frame, with or without a face, when that
  comes at most ``MAX_GAP_S`` later; otherwise, and for the last frame, one typical frame interval (the median
  gap between frames);
- a moment observed at or below the threshold ends a stretch, and so do frames more than ``MAX_GAP_S`` apart
  (nothing is known in between);
- a time without a face in the picture, or between speech segments, counts for nothing; it ends the stretch
  when it lasts longer than ``MAX_GAP_S``;
- the rule fires when a stretch covers ``min_seconds``, less ``TOLERANCE_S``.
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from emotion_core.errors import InvalidInputError
from emotion_core.labels import EMOTIONS
from emotion_core.modalities import MODALITIES
from emotion_core.result import score_column

NEGATIVE = ("angry", "disgust", "fear", "sad")
RULE_KINDS = ("sustained", "multimodal")
MAX_GAP_S = 1.5
"""Longest gap bridged, in seconds: longer than live frames ever come apart (under 1 s) and than a video analysed
every 30th frame (about 1 s), short enough not to join two episodes."""
TOLERANCE_S = 0.01
"""How far a stretch may fall short of ``min_seconds`` and still fire: rounding to the millisecond at both ends
and the jitter of container timestamps, well under a frame at 30 frames/s."""


@dataclass(frozen=True)
class Rule:
    """An alert rule (the database keeps the same fields, see :class:`emotion_core.storage.db.AlertRule`)."""

    name: str
    kind: str
    labels: tuple[str, ...] = NEGATIVE
    threshold: float = 0.6
    min_seconds: float = 3.0
    rule_id: int | None = None

    def check(self) -> None:
        """Raise :class:`InvalidInputError` unless every field is in range: the store checks each rule it saves,
        whether from the Admin page or the command line (rules already stored are not checked again)."""
        if not self.name.strip() or len(self.name) > 120:
            raise InvalidInputError("rule: the name must have 1 to 120 characters.")
        if self.kind not in RULE_KINDS:
            raise InvalidInputError(f"rule: the kind must be one of {', '.join(RULE_KINDS)}, got {self.kind!r}.")
        if not self.labels:
            raise InvalidInputError("rule: choose at least one label.")
        unknown = sorted(set(self.labels) - set(EMOTIONS))
        if unknown:
            raise InvalidInputError(f"rule: unknown labels {', '.join(unknown)}; the labels are "
                                    f"{', '.join(EMOTIONS)}.")
        if not 0 < self.threshold <= 1:
            raise InvalidInputError(f"rule: the threshold must be above 0 and at most 1, got {self.threshold}.")
        if not self.min_seconds >= 0:
            raise InvalidInputError(f"rule: the duration must be 0 s or more, got {self.min_seconds}.")


@dataclass(frozen=True)
class AlertEvent:
    """A rule that fired, over ``start_s`` to ``end_s`` of the timeline."""

    rule: Rule
    start_s: float
    end_s: float
    detail: str


Observation = tuple[float, float, float]  # start, end, share


def _share(row: dict, labels: Sequence[str]) -> float:
    return sum(float(row.get(score_column(label)) or 0.0) for label in labels)


def _start(row: dict) -> float:
    start = row.get("start_s")
    return 0.0 if start is None else float(start)


def _span(row: dict) -> tuple[float, float]:
    start, end = _start(row), row.get("end_s")
    return start, start if end is None else float(end)


def _observations(rows: Sequence[dict], labels: Sequence[str]) -> list[Observation]:
    """Every face, segment or sentence with the time it covers (frames without a face observe nothing), and the
    time between frames more than ``MAX_GAP_S`` apart, which counts as below any threshold."""
    times = sorted({_start(row) for row in rows if row.get("end_s") is None})
    gaps = [b - a for a, b in zip(times, times[1:]) if b - a <= MAX_GAP_S]
    typical = statistics.median(gaps) if gaps else 0.0
    frame_end: dict[float, float] = {}
    observed = []
    for time, following in zip(times, [*times[1:], math.inf]):
        frame_end[time] = following if following - time <= MAX_GAP_S else time + typical
        if frame_end[time] < following < math.inf:
            observed.append((frame_end[time], following, 0.0))
    for row in rows:
        if row.get("label") != "no face":
            start = _start(row)
            end = frame_end[start] if row.get("end_s") is None else float(row["end_s"])
            observed.append((start, end, _share(row, labels)))
    return observed


def _pieces(observations: Sequence[Observation]) -> list[Observation]:
    """The observed time cut at every start and end, each piece with the highest share observed over it.

    An observation without duration (a photo's faces, a lone frame) stays a piece of its own.
    """
    bounds = sorted({time for start, end, _ in observations for time in (start, end)})
    waiting = sorted(observations, reverse=True)  # the earliest last, to pop
    covering: list[tuple[float, float]] = []  # a heap of (-share, end): the highest share on top
    pieces = [observation for observation in observations if observation[0] == observation[1]]
    for left, right in zip(bounds, bounds[1:]):
        while waiting and waiting[-1][0] <= left:
            _, end, share = waiting.pop()
            heapq.heappush(covering, (-share, end))
        while covering and covering[0][1] <= left:  # ended before this piece
            heapq.heappop(covering)
        if covering:
            pieces.append((left, right, -covering[0][0]))
    return sorted(pieces)


def _sustained(rule: Rule, rows: Sequence[dict]) -> list[AlertEvent]:
    events: list[AlertEvent] = []
    stretch: list[float] | None = None  # start, end, covered seconds and peak share of the current stretch

    def close() -> None:
        if stretch is not None and stretch[2] >= rule.min_seconds - TOLERANCE_S:
            start, end, covered, peak = stretch
            events.append(AlertEvent(rule, start, end, f"{'/'.join(rule.labels)} above {rule.threshold:.0%} for "
                                                       f"{covered:.1f} s (peak {peak:.0%})"))

    for start, end, share in _pieces(_observations(rows, rule.labels)):
        if stretch is not None and (share <= rule.threshold or start - stretch[1] > MAX_GAP_S):
            close()
            stretch = None
        if share > rule.threshold:
            stretch = stretch or [start, end, 0.0, share]
            stretch[1:] = [end, stretch[2] + end - start, max(stretch[3], share)]
    close()
    return events


def _multimodal(rule: Rule, rows: Sequence[dict]) -> list[AlertEvent]:
    window = max(rule.min_seconds, 1e-6)
    buckets: dict[int, dict[str, list[float]]] = {}
    for row in rows:
        if row.get("label") == "no face" or row.get("modality") not in MODALITIES:
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
