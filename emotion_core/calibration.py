"""Confidence calibration: temperature scaling and the expected calibration error (ECE).

A network trained with label smoothing and class weights says "70 %" when it is right more (or less) often
than 70 % of the time. Temperature scaling (Guo et al., On Calibration of Modern Neural Networks, ICML 2017)
divides the logits by one number ``T`` fitted on validation data; labels never change, only confidences.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ECE_BINS = 15
"""Equal-width confidence bins of the ECE, as in Guo et al."""


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of ``log(p) / T``, row by row: ``(N, K)`` probabilities in, ``(N, K)`` out.

    Examples
    --------
    >>> apply_temperature(np.array([[0.8, 0.2]]), 1.0).round(2).tolist()
    [[0.8, 0.2]]
    >>> apply_temperature(np.array([[0.8, 0.2]]), 2.0).round(2).tolist()
    [[0.67, 0.33]]
    """
    if temperature == 1.0:
        return probabilities
    logits = np.log(np.clip(probabilities, 1e-12, None)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def expected_calibration_error(probabilities: np.ndarray, targets: Sequence[int], *, bins: int = ECE_BINS) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by the bins' sizes.

    Examples
    --------
    >>> expected_calibration_error(np.array([[0.9, 0.1], [0.9, 0.1]]), [0, 1])
    0.4
    """
    probabilities = np.asarray(probabilities, dtype=float)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(targets)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gaps = [abs(confidence[which == b].mean() - correct[which == b].mean()) * np.mean(which == b)
            for b in range(bins) if np.any(which == b)]
    return round(float(np.sum(gaps)), 4)


def fit_temperature(probabilities: np.ndarray, targets: Sequence[int]) -> float:
    """The ``T`` in [0.05, 20] that minimises the negative log-likelihood of ``targets`` (validation data)."""
    from scipy.optimize import minimize_scalar

    targets = np.asarray(targets)

    def nll(log_t: float) -> float:
        scaled = apply_temperature(probabilities, float(np.exp(log_t)))
        return float(-np.log(np.clip(scaled[np.arange(len(targets)), targets], 1e-12, None)).mean())

    found = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded", options={"xatol": 1e-4})
    return round(float(np.exp(found.x)), 4)
