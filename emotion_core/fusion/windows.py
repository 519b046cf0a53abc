"""Late fusion of face, speech and text over shared time windows (seed 001: weighted average or majority vote).

For each window, each modality present contributes the mean of its probabilities over the window; the fused
probabilities are ``sum(w_m * p_m) / sum(w_m)`` over the modalities present (weighted average), or the share of
the modalities' votes (majority vote, ties broken by the weighted average). A modality with nothing in a window
is absent there, never filled in. A modality whose results in a window are marked uncertain weighs
:data:`UNCERTAIN_WEIGHT` times its weight there (in proportion to the uncertain share of its time). There is no
labelled multimodal data here, so the fusion's accuracy is not measured; its arithmetic and alignment are tested
exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from emotion_core.labels import EMOTIONS
from emotion_core.modalities import FUSED, MODALITIES
from emotion_core.result import EmotionResult, score_columns

if TYPE_CHECKING:
    from emotion_core.face.stream import FrameReport

METHODS = ("weighted", "vote")
UNCERTAIN_WEIGHT = 0.25
"""How much an uncertain result counts against a trusted one of the same modality: enough to be heard when it is
all there is, too little to outvote a modality that knows what it reads."""


@dataclass(frozen=True)
class FusedWindow:
    start_s: float
    end_s: float
    per_modality: dict[str, np.ndarray]  # mean probabilities of the modalities present
    fused: EmotionResult | None  # None when no modality says anything in this window
    contributions: dict[str, float]  # each modality's share of the fused decision (sums to 1)
    uncertain_share: dict[str, float] = field(default_factory=dict)  # of each present modality's time here

    @property
    def disagreement(self) -> bool:
        """True when the modalities present name different top emotions."""
        return len({EMOTIONS[int(p.argmax())] for p in self.per_modality.values()}) > 1

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"start_s": self.start_s, "end_s": self.end_s,
                               "modalities": "+".join(self.per_modality) or "none",
                               "disagreement": self.disagreement}
        for modality in MODALITIES:
            probs = self.per_modality.get(modality)
            row[f"{modality}_label"] = EMOTIONS[int(probs.argmax())] if probs is not None else None
            row[f"{modality}_share"] = round(self.contributions.get(modality, 0.0), 4)
            row[f"{modality}_uncertain"] = round(self.uncertain_share[modality], 4) if probs is not None else None
        row["label"] = self.fused.label if self.fused else "none"
        row["confidence"] = self.fused.confidence if self.fused else None
        row.update(score_columns(self.fused.scores if self.fused else {}))
        return row


def weighted_average(probabilities: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """``sum(w_m * p_m) / sum(w_m)`` over the modalities given.

    Examples
    --------
    >>> p = weighted_average({"face": np.eye(7)[3], "speech": np.eye(7)[0]}, {"face": 3, "speech": 1})
    >>> p[3], p[0]
    (np.float64(0.75), np.float64(0.25))
    """
    total = sum(weights[m] for m in probabilities)
    if total <= 0:
        raise ValueError("the weights of the modalities present must add up to more than 0")
    return sum(weights[m] * np.asarray(p, dtype=float) for m, p in probabilities.items()) / total


def majority_vote(probabilities: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """Each modality votes for its top emotion; the result is the share of votes per emotion, with a tie broken
    by the weighted average (a tiny fraction of it is added, so the order follows it)."""
    votes = np.zeros(len(EMOTIONS))
    for p in probabilities.values():
        votes[int(np.argmax(p))] += 1
    votes /= votes.sum()
    tie_break = weighted_average(probabilities, weights)
    return (votes + 1e-6 * tie_break) / (1 + 1e-6)


def fuse(probabilities: Mapping[str, np.ndarray], *, weights: Mapping[str, float], method: str = "weighted",
         model_id: str = "fusion") -> tuple[EmotionResult, dict[str, float]]:
    """Fuse one set of per-modality probabilities; returns the fused result and each modality's contribution.

    A contribution is the modality's weighted probability for the fused label, over the sum of those
    (how much of the decision it carried).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    combined = (weighted_average if method == "weighted" else majority_vote)(probabilities, weights)
    result = EmotionResult.from_probabilities(combined / combined.sum(), modality=FUSED, model_id=model_id,
                                              extra={"method": method})
    top = EMOTIONS.index(result.label)
    support = {m: weights[m] * float(p[top]) for m, p in probabilities.items()}
    total = sum(support.values()) or 1.0
    return result, {m: s / total for m, s in support.items()}


def fuse_timeline(timeline: Sequence[EmotionResult], *, duration_s: float, window_s: float = 1.0,
                  weights: Mapping[str, float], method: str = "weighted") -> list[FusedWindow]:
    """Fuse every ``window_s`` window of ``[0, duration_s)`` of a timeline of results, each with its ``span``.

    Within a window, a modality's probabilities are the mean of its results there: intervals weighted by the
    seconds they overlap the window, instants (video frames, whose span starts where it ends) one each. A modality
    without results in a window is absent from it.
    """
    if window_s <= 0:
        raise ValueError("window_s must be positive")
    if any(result.span is None for result in timeline):
        raise ValueError("every result on a timeline needs its span")
    observations = [(r.modality, *r.span, np.array([r.scores[e] for e in EMOTIONS]), r.uncertain is not None)
                    for r in timeline]
    windows = []
    for index in range(max(1, int(np.ceil(duration_s / window_s)))):
        start, end = index * window_s, min(duration_s, (index + 1) * window_s) if duration_s else window_s
        sums: dict[str, np.ndarray] = {}
        mass: dict[str, float] = {}
        doubt: dict[str, float] = {}
        for modality, from_s, to_s, probabilities, uncertain in observations:
            if to_s > from_s:  # an interval (a speech segment, a text cue): seconds of overlap
                weight = min(end, to_s) - max(start, from_s)
            else:  # an instant (a video frame): counts once in its window
                weight = 1.0 if start <= from_s < end else 0.0
            if weight <= 0:
                continue
            sums[modality] = sums.get(modality, np.zeros(len(EMOTIONS))) + weight * probabilities
            mass[modality] = mass.get(modality, 0.0) + weight
            doubt[modality] = doubt.get(modality, 0.0) + (weight if uncertain else 0.0)
        present = {m: sums[m] / mass[m] for m in MODALITIES if m in sums and weights.get(m, 0) > 0}
        uncertain_share = {m: doubt[m] / mass[m] for m in present}
        trusted = {m: weights[m] * (1 - (1 - UNCERTAIN_WEIGHT) * uncertain_share[m]) for m in present}
        if present:
            fused, contributions = fuse(present, weights=trusted, method=method)
        else:
            fused, contributions = None, {}
        windows.append(FusedWindow(start, end, present, fused, contributions, uncertain_share))
    return windows


def timeline_from(frames: Sequence[FrameReport] = (), speech: Sequence[EmotionResult] = (),
                  text: Sequence[tuple[float, float, EmotionResult]] = ()) -> list[EmotionResult]:
    """Every modality on one time axis: the faces of video frames (each an instant at its frame's time), speech
    segments, and text cues spanning their times."""
    faces = [replace(face, span=(frame.time_s, frame.time_s)) for frame in frames for face in frame.faces]
    return [*faces, *speech, *(replace(result, span=(start, end)) for start, end, result in text)]


def default_weights(cards: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Each modality's weight: its model's measured validation reliability, from the model cards.

    Which model and which figure is the registry's (:class:`~emotion_core.modalities.Modality`): face, the
    accuracy on FER-2013 PublicTest (the selection split); speech, the mean UAR over the two corpora on speakers
    held out of its fit (validation speakers or cross-validation folds, as the card says); text, the validation
    selection score. A modality without a measured figure weighs 1/7 (chance). Cards named after other models (the
    seed 002 hybrid, the speaker-calibrated speech model) are not what fusion reads.
    """
    weights = dict.fromkeys(MODALITIES, 1 / len(EMOTIONS))
    for card in cards:
        modality = MODALITIES.get(card.get("modality"))
        if card.get("task") == "face detection" or modality is None:
            continue
        if card.get("name", modality.model) != modality.model:
            continue
        figure = modality.measured_reliability(card)
        if figure is not None:
            weights[modality.name] = round(figure, 4)
    return weights
