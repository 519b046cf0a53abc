"""Choose a text model's :class:`~emotion_core.text.predictor.TextCalibration` on the validation splits of every corpus.

Three choices, in turn, each on validation data only (each corpus weighs the same, whatever its size):

1. the temperature that minimises the mean negative log-likelihood;
2. the offset on neutral's log-probability that maximises the mean macro-F1: the neutral decision made on purpose
   rather than left to the training corpora's mix (dair-ai has no neutral texts at all, MELD and XED about half);
   then an offset for every emotion (neutral's included), one at a time in turn, each the best for the mean
   macro-F1 given the others, until a round changes none: class priors for the whole label set;
3. the confidence below which a result is marked uncertain: the highest threshold under which the model is wrong
   more often than right, flagging at most :data:`MAX_FLAGGED` of the texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.evaluation import classification_report, neutral_share
from emotion_core.labels import EMOTIONS
from emotion_core.text.corpora import CORPORA, load_corpus
from emotion_core.text.predictor import TextCalibration, TextPredictor

TEMPERATURES = np.round(np.arange(0.5, 3.01, 0.05), 2)
NEUTRAL_OFFSETS = np.round(np.arange(-3.0, 3.01, 0.1), 1)
EMOTION_OFFSETS = np.round(np.arange(-1.5, 1.51, 0.1), 1)
MAX_ROUNDS = 4
THRESHOLDS = np.round(np.arange(0.2, 0.81, 0.01), 2)
MAX_FLAGGED = 0.25
"""At most this share of the validation texts is marked uncertain for low confidence."""


def _predicted(probs: np.ndarray) -> list[str]:
    return [EMOTIONS[i] for i in probs.argmax(axis=1)]


def _mean_nll(sets: dict[str, tuple[np.ndarray, list[str]]], calibration: TextCalibration) -> float:
    losses = []
    for probs, labels in sets.values():
        truth = np.array([EMOTIONS.index(label) for label in labels])
        losses.append(-np.log(calibration.apply(probs)[np.arange(len(truth)), truth] + 1e-12).mean())
    return float(np.mean(losses))


def _mean_macro_f1(sets: dict[str, tuple[np.ndarray, list[str]]], calibration: TextCalibration) -> float:
    return float(np.mean([classification_report(labels, _predicted(calibration.apply(probs)))["macro_f1"]
                          for probs, labels in sets.values()]))


def choose_calibration(sets: dict[str, tuple[np.ndarray, list[str]]]) -> TextCalibration:
    """The calibration for raw probabilities and labels of each corpus' validation split (see module doc)."""
    temperature = min(TEMPERATURES, key=lambda t: _mean_nll(sets, TextCalibration(temperature=float(t))))
    offset = max(NEUTRAL_OFFSETS, key=lambda b: (_mean_macro_f1(
        sets, TextCalibration(temperature=float(temperature), neutral_offset=float(b))), -abs(b)))
    calibration = _class_priors(sets, TextCalibration(temperature=float(temperature), neutral_offset=float(offset)))
    confidence, correct = [], []
    for probs, labels in sets.values():  # each corpus weighs the same
        calibrated = calibration.apply(probs)
        weight = 1 / len(labels)
        confidence += [(c, weight) for c in calibrated.max(axis=1)]
        correct += [p == t for p, t in zip(_predicted(calibrated), labels)]
    conf, weights = np.array([c for c, _ in confidence]), np.array([w for _, w in confidence])
    correct_arr = np.array(correct, dtype=float)
    below = 0.0
    for threshold in THRESHOLDS:
        flagged = conf < threshold
        share = weights[flagged].sum() / weights.sum()
        if share > MAX_FLAGGED:
            break
        if flagged.any() and np.average(correct_arr[flagged], weights=weights[flagged]) < 0.5:
            below = float(threshold)
    return replace(calibration, uncertain_below=below)


def _with_offset(calibration: TextCalibration, emotion: str, offset: float) -> TextCalibration:
    if emotion == "neutral":
        return replace(calibration, neutral_offset=offset)
    return replace(calibration, emotion_offsets={**calibration.emotion_offsets, emotion: offset})


def _class_priors(sets: dict[str, tuple[np.ndarray, list[str]]], start: TextCalibration) -> TextCalibration:
    """Coordinate ascent on the mean macro-F1 over every emotion's offset, from ``start`` (ties: the smaller
    offset)."""
    calibration = start
    for _ in range(MAX_ROUNDS):
        before = calibration
        for emotion, current in zip(EMOTIONS, calibration.offsets()):
            candidates = sorted({*EMOTION_OFFSETS.tolist(), float(current)})
            calibration = max((_with_offset(calibration, emotion, b) for b in candidates),
                              key=lambda c: (_mean_macro_f1(sets, c), -np.abs(c.offsets()).sum()))
        if calibration == before:
            break
    return calibration


def calibration_report(predictor: TextPredictor, data_dirs: Sequence[str | Path], *,
                       names: Sequence[str] = CORPORA) -> dict[str, Any]:
    """Choose the calibration on every corpus' val split, and report each corpus' test split before and after.

    Returns ``{"calibration": {...}, "validation": {corpus: before/after}, "test": {corpus: before/after}}``, the
    figures being accuracy, macro-F1, weighted-F1, the neutral shares and (after) the share marked uncertain.
    """
    def raw(split: str) -> dict[str, tuple[np.ndarray, list[str]]]:
        sets = {name: load_corpus(name, split, data_dirs) for name in names}
        return {name: (predictor.raw_probabilities(s.texts), s.labels) for name, s in sets.items()}

    validation = raw("val")
    calibration = choose_calibration(validation)

    def figures(sets: dict[str, tuple[np.ndarray, list[str]]], applied: TextCalibration) -> dict[str, Any]:
        out = {}
        for name, (probs, labels) in sets.items():
            calibrated = applied.apply(probs)
            predicted = _predicted(calibrated)
            full = classification_report(labels, predicted)
            out[name] = {**{k: full[k] for k in ("n", "accuracy", "macro_f1", "weighted_f1")},
                         "neutral_share": neutral_share(labels, predicted),
                         "low_confidence_share": round(float((calibrated.max(axis=1) < applied.uncertain_below)
                                                             .mean()), 4)}
        return out

    def before_after(sets):
        before, after = figures(sets, TextCalibration()), figures(sets, calibration)
        return {name: {"before": before[name], "after": after[name]} for name in sets}

    curve = {f"{b:+.1f}": round(_mean_macro_f1(validation, TextCalibration(temperature=calibration.temperature,
                                                                          neutral_offset=float(b))), 4)
             for b in np.arange(-1.5, 1.51, 0.5)}
    return {"calibration": calibration.to_dict(), "validation": before_after(validation),
            "validation_mean_macro_f1_by_neutral_offset": curve, "test": before_after(raw("test"))}
