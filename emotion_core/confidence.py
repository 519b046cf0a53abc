"""Confidence that means something: temperature scaling, its calibration error, and how far an input lies from
the data a model learnt (an out-of-distribution distance).

A classifier trained on a few acted corpora is over-confident on voices unlike them. Two remedies, both fitted
on leave-one-corpus-out predictions (voices the model had not heard):

- *temperature scaling* divides the log-probabilities by ``T > 1`` before renormalising: the ranking stays, the
  confidence shrinks to match how often the model is right (expected calibration error, ECE);
- a *distance* from the training distribution: the input's standardised features projected on the training
  data's principal components, each component divided by its standard deviation, root-mean-square over the
  components. Training-like inputs sit near 1; a result whose input lies beyond a limit is marked uncertain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

ECE_BINS = 15
"""Equal-width confidence bins of the expected calibration error, as in Guo et al. (ICML 2017)."""


def apply_temperature(probabilities: np.ndarray, temperature: float,
                      log_offsets: np.ndarray | None = None) -> np.ndarray:
    """``softmax(log p / T + offsets)`` row by row: the same ranking, flatter when ``T > 1``; ``log_offsets``
    (one per class) move a class's decision on purpose (text's neutral).

    Examples
    --------
    >>> apply_temperature(np.array([[0.8, 0.2]]), 1.0).round(2).tolist()
    [[0.8, 0.2]]
    >>> apply_temperature(np.array([[0.8, 0.2]]), 2.0).round(2).tolist()
    [[0.67, 0.33]]
    """
    logits = np.log(np.clip(np.asarray(probabilities, np.float64), 1e-12, None)) / temperature
    if log_offsets is not None:
        logits = logits + log_offsets
    logits -= logits.max(axis=-1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=-1, keepdims=True)


def fit_temperature(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of the true classes (indices ``truth``)."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(truth))

    def nll(log_t: float) -> float:
        return float(-np.log(apply_temperature(probabilities, np.exp(log_t))[rows, truth] + 1e-12).mean())

    return float(np.exp(minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded").x))


def expected_calibration_error(probabilities: np.ndarray, truth: np.ndarray, *, bins: int = ECE_BINS) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by their size.

    Examples
    --------
    >>> round(expected_calibration_error(np.array([[0.9, 0.1], [0.9, 0.1]]), np.array([0, 1])), 2)
    0.4
    """
    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(truth)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            gap += members.mean() * abs(confidence[members].mean() - correct[members].mean())
    return float(gap)


@dataclass(frozen=True)
class DistanceModel:
    """Where the training inputs lie: standardisation, principal directions and their spreads.

    ``distance`` is the root-mean-square of the whitened principal components: about 1 for inputs like the
    training data, growing for inputs unlike it.
    """

    center: np.ndarray  # (features,)
    scale: np.ndarray  # (features,)
    components: np.ndarray  # (k, features), orthonormal rows
    spread: np.ndarray  # (k,) standard deviation of the training data along each component

    @classmethod
    def fit(cls, features: np.ndarray, *, components: int = 32) -> DistanceModel:
        features = np.asarray(features, np.float64)
        center = features.mean(0)
        scale = np.where(features.std(0) > 1e-8, features.std(0), 1.0)
        z = (features - center) / scale
        _, singular, vt = np.linalg.svd(z, full_matrices=False)
        k = min(components, len(singular))
        spread = singular[:k] / np.sqrt(max(1, len(z) - 1))
        return cls(center.astype(np.float32), scale.astype(np.float32), vt[:k].astype(np.float32),
                   np.maximum(spread, 1e-6).astype(np.float32))

    def distance(self, features: np.ndarray) -> np.ndarray:
        """The distance of each row of ``features`` ``(n, features)``."""
        z = (np.atleast_2d(np.asarray(features, np.float32)) - self.center) / self.scale
        return np.sqrt(np.mean((z @ self.components.T / self.spread) ** 2, axis=1))

    def save(self, path: Path) -> None:
        np.savez(path, center=self.center, scale=self.scale, components=self.components.astype(np.float16),
                 spread=self.spread)

    @classmethod
    def load(cls, path: Path) -> DistanceModel:
        with np.load(path, allow_pickle=False) as stored:
            return cls(stored["center"], stored["scale"], stored["components"].astype(np.float32), stored["spread"])


def uncertain_reason(confidence: float, distance: float | None, *, min_confidence: float | None,
                     max_distance: float | None) -> str | None:
    """Why a result should not be trusted, in words a user reads; ``None`` when nothing is known against it."""
    reasons = []
    if distance is not None and max_distance is not None and distance > max_distance:
        reasons.append(f"voice unlike the training recordings (distance {distance:.1f}, limit {max_distance:.1f})")
    if min_confidence is not None and confidence < min_confidence:
        reasons.append(f"confidence {confidence:.2f} below {min_confidence:.2f}")
    return "; ".join(reasons) or None
