"""Plotly figures shared by every page: probability bars, confusion matrices, per-class metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from emotion_core.labels import EMOJI, EMOTIONS
from emotion_core.overlay import colour_hex


def probability_bars(scores: Mapping[str, float], *, title: str = "") -> Any:
    """Horizontal bars of the seven probabilities, most likely on top."""
    import plotly.graph_objects as go

    ordered = sorted(EMOTIONS, key=lambda label: scores[label])
    fig = go.Figure(go.Bar(
        x=[scores[label] for label in ordered],
        y=[f"{EMOJI[label]} {label}" for label in ordered],
        orientation="h",
        marker_color=[colour_hex(label) for label in ordered],
        text=[f"{scores[label]:.0%}" for label in ordered],
        textposition="auto",
        hovertemplate="%{y}: %{x:.1%}<extra></extra>",
    ))
    fig.update_layout(title=title or None, xaxis={"range": [0, 1], "tickformat": ".0%", "title": "probability"},
                      height=260, margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10})
    return fig


def confusion_heatmap(labels: Sequence[str], matrix: Sequence[Sequence[int]], *, normalise: bool = True,
                      title: str = "") -> Any:
    """Confusion matrix as a heatmap: rows are true labels, columns predictions; row-normalised by default."""
    import numpy as np
    import plotly.graph_objects as go

    counts = np.asarray(matrix, dtype=float)
    rows = counts.sum(axis=1, keepdims=True)
    shown = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0) if normalise else counts
    text = [[f"{shown[i, j]:.0%}<br>({int(counts[i, j])})" if normalise else str(int(counts[i, j]))
             for j in range(len(labels))] for i in range(len(labels))]
    fig = go.Figure(go.Heatmap(
        z=shown, x=list(labels), y=list(labels), colorscale="Blues", text=text, texttemplate="%{text}",
        hovertemplate="true %{y}, predicted %{x}: %{z:.1%}<extra></extra>" if normalise else
        "true %{y}, predicted %{x}: %{z}<extra></extra>",
        zmin=0, zmax=1 if normalise else None,
    ))
    fig.update_layout(title=title or None, xaxis_title="predicted", yaxis_title="true",
                      yaxis={"autorange": "reversed"}, height=480, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def per_class_bars(per_class: Mapping[str, Mapping[str, float]], *, metric: str = "f1", title: str = "") -> Any:
    """Bars of one per-class metric (precision, recall or f1)."""
    import plotly.graph_objects as go

    labels = [label for label in EMOTIONS if label in per_class]
    fig = go.Figure(go.Bar(
        x=labels, y=[per_class[label][metric] for label in labels],
        marker_color=[colour_hex(label) for label in labels],
        text=[f"{per_class[label][metric]:.2f}" for label in labels], textposition="auto",
    ))
    fig.update_layout(title=title or None, yaxis={"range": [0, 1], "title": metric}, height=300,
                      margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10})
    return fig
