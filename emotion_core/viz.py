"""Plotly figures shared by every page: probability bars, confusion matrices, per-class metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from emotion_core.face.overlay import colour_hex
from emotion_core.labels import EMOJI, EMOTIONS
from emotion_core.modalities import MODALITIES
from emotion_core.result import score_column

LEGEND_ABOVE = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}  # never over the lines
NO_DATA = "no data in this window"


def _note_empty(fig: Any, text: str = NO_DATA, *, row: int | None = None) -> None:
    """Say so in the middle of an empty plot (or of the subplot in ``row``), instead of a blank frame.

    Placed on the page rather than on the subplot's axes, which Plotly leaves out when they carry no trace.
    """
    x, y = (0.5, 0.5) if row is None else (sum(fig.get_subplot(row, 1).xaxis.domain) / 2,
                                            sum(fig.get_subplot(row, 1).yaxis.domain) / 2)
    fig.add_annotation(text=text, x=x, y=y, xref="paper", yref="paper", showarrow=False,
                       font={"color": "#888888", "size": 14})


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


def emotion_timeline(table, *, title: str = "", window_s: float | None = None) -> Any:
    """Smoothed probabilities over time (one line per emotion) above a band of the dominant emotion.

    ``table`` holds frame rows (``time_s``, ``label``, ``p_*``; see :func:`emotion_core.face.stream.rows_table`).
    With several faces, the first track (lowest id) in each frame is shown. ``window_s`` keeps only the last
    seconds, for a live view.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.82, 0.18], vertical_spacing=0.04)
    if len(table):
        rows = table.sort_values(["time_s", "track_id"], na_position="last").drop_duplicates("time_s")
        if window_s is not None:
            rows = rows[rows["time_s"] >= rows["time_s"].max() - window_s]
        faces = rows[rows["label"] != "no face"]
        if faces.empty:
            _note_empty(fig, "no face in this window", row=1)
        for label in EMOTIONS:
            fig.add_trace(go.Scatter(x=faces["time_s"], y=faces[score_column(label)], name=f"{EMOJI[label]} {label}",
                                     mode="lines", line={"color": colour_hex(label), "width": 2},
                                     hovertemplate=f"{label}: %{{y:.0%}} at %{{x:.2f}} s<extra></extra>"),
                          row=1, col=1)
        step = float(rows["time_s"].diff().median()) if len(rows) > 1 else 0.04
        colours = [colour_hex(label) if label in EMOTIONS else "#eeeeee" for label in rows["label"]]
        fig.add_trace(go.Bar(x=rows["time_s"], y=[1] * len(rows), width=step, marker_color=colours,
                             marker_line_width=0, customdata=rows["label"], showlegend=False,
                             hovertemplate="%{customdata} at %{x:.2f} s<extra></extra>"), row=2, col=1)
    else:
        _note_empty(fig, row=1)
    fig.update_yaxes(range=[0, 1], tickformat=".0%", title="probability", row=1, col=1)
    fig.update_yaxes(visible=False, row=2, col=1)
    fig.update_xaxes(title="time (s)", row=2, col=1)
    # The legend sits above the plot with room for three rows (a narrow column wraps it), never over the lines.
    fig.update_layout(title=title or None, height=420, bargap=0, legend=LEGEND_ABOVE,
                      margin={"l": 10, "r": 10, "t": 135 if title else 90, "b": 10})
    return fig


def share_bars(shares: Mapping[str, float], *, title: str = "") -> Any:
    """Bars of the share of time per emotion (and without a face)."""
    import plotly.graph_objects as go

    labels = list(shares)
    fig = go.Figure(go.Bar(
        x=[f"{EMOJI.get(label, '')} {label}".strip() for label in labels], y=[shares[label] for label in labels],
        marker_color=[colour_hex(label) if label in EMOTIONS else "#bbbbbb" for label in labels],
        text=[f"{shares[label]:.0%}" for label in labels], textposition="auto",
    ))
    fig.update_layout(title=title or None, yaxis={"range": [0, 1], "tickformat": ".0%"}, height=300,
                      margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10})
    return fig


def waveform(times, low, high, *, segments=(), title: str = "") -> Any:
    """The recording's envelope, with each voiced segment shaded in its emotion's colour."""
    import plotly.graph_objects as go

    fig = go.Figure([
        go.Scatter(x=times, y=high, mode="lines", line={"width": 0.6, "color": "#555"}, hoverinfo="skip",
                   showlegend=False),
        go.Scatter(x=times, y=low, mode="lines", line={"width": 0.6, "color": "#555"}, fill="tonexty",
                   fillcolor="rgba(80,80,80,0.35)", hoverinfo="skip", showlegend=False),
    ])
    for result in segments:
        fig.add_vrect(x0=result.span[0], x1=result.span[1], fillcolor=colour_hex(result.label), opacity=0.25,
                      line_width=0, annotation_text=f"{EMOJI[result.label]} {result.label}",
                      annotation_position="top left")
    fig.update_layout(title=title or None, height=230, xaxis_title="time (s)", yaxis={"range": [-1, 1]},
                      margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10})
    return fig


def spectrogram(samples, *, sample_rate: int = 16_000, title: str = "") -> Any:
    """Log-mel spectrogram (64 bands, 10 ms hop) as a heatmap."""
    import librosa
    import numpy as np
    import plotly.graph_objects as go

    mel = librosa.feature.melspectrogram(y=samples, sr=sample_rate, n_fft=400, hop_length=160, n_mels=64)
    db = librosa.power_to_db(mel, ref=np.max)
    step = max(1, db.shape[1] // 2000)  # at most 2,000 columns in the browser
    fig = go.Figure(go.Heatmap(z=db[:, ::step], x=np.arange(0, db.shape[1], step) * 0.01,
                               y=librosa.mel_frequencies(64, fmax=sample_rate / 2).round(), colorscale="Magma",
                               colorbar={"title": "dB"}, hovertemplate="%{x:.2f} s, %{y:.0f} Hz: %{z:.0f} dB"
                               "<extra></extra>"))
    fig.update_layout(title=title or None, height=260, xaxis_title="time (s)", yaxis_title="Hz",
                      margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10})
    return fig


def segment_timeline(table, *, title: str = "") -> Any:
    """Probabilities of each voiced segment as steps over time (one line per emotion)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if table.empty:
        _note_empty(fig, "no voiced segment")
    for label in EMOTIONS:
        xs, ys = [], []
        for row in table.itertuples():
            xs += [row.start_s, row.end_s, None]
            ys += [getattr(row, score_column(label))] * 2 + [None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"{EMOJI[label]} {label}",
                                 line={"color": colour_hex(label), "width": 3}))
    # A little headroom above 100% so a certain segment's line is not cut by the frame; legend above the plot.
    fig.update_layout(title=title or None, height=360, xaxis_title="time (s)",
                      yaxis={"range": [0, 1.03], "tickformat": ".0%", "title": "probability"},
                      legend=LEGEND_ABOVE, margin={"l": 10, "r": 10, "t": 110 if title else 70, "b": 10})
    return fig


def multimodal_timeline(face_rows, speech_table, cues, window_table, *, title: str = "") -> Any:
    """Face, speech, text and fused emotions on one time axis; fused windows where the modalities disagree are
    marked with a red triangle."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = ["face", "speech", "text", "fused"]
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        subplot_titles=[f"{name} (probability of each emotion)" for name in rows])
    shown = set()

    def line(x, y, label, row):
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=f"{EMOJI[label]} {label}", legendgroup=label,
                                 showlegend=label not in shown, line={"color": colour_hex(label), "width": 2}),
                      row=row, col=1)
        shown.add(label)

    faces = face_rows[face_rows["label"] != "no face"].drop_duplicates("time_s") if len(face_rows) else face_rows
    for row, table in enumerate((faces, speech_table, cues, window_table), start=1):
        if not len(table):
            _note_empty(fig, row=row)
    for label in EMOTIONS:
        if len(faces):
            line(faces["time_s"], faces[score_column(label)], label, 1)
        for row, table in ((2, speech_table), (3, cues)):
            if len(table):
                xs = [v for r in table.itertuples() for v in (r.start_s, r.end_s, None)]
                ys = [v for r in table.itertuples() for v in (getattr(r, score_column(label)),) * 2 + (None,)]
                line(xs, ys, label, row)
        if len(window_table):
            xs = [v for r in window_table.itertuples() for v in (r.start_s, r.end_s)]
            ys = [v for r in window_table.itertuples() for v in (getattr(r, score_column(label)),) * 2]
            line(xs, ys, label, 4)
    if len(window_table):
        clash = window_table[window_table["disagreement"]]
        fig.add_trace(go.Scatter(x=(clash["start_s"] + clash["end_s"]) / 2, y=[1.05] * len(clash), mode="markers",
                                 marker={"symbol": "triangle-down", "color": "#d62728", "size": 10},
                                 name="modalities disagree", text=clash["modalities"],
                                 hovertemplate="%{x:.1f} s: modalities disagree<extra></extra>"), row=4, col=1)
    for row in range(1, 5):
        fig.update_yaxes(range=[0, 1.1], tickformat=".0%", row=row, col=1)
    fig.update_xaxes(title="time (s)", row=4, col=1)
    # The legend sits between the title and the first panel's own title, never over either.
    fig.update_layout(title=title or None, height=820, legend={**LEGEND_ABOVE, "y": 1.04},
                      margin={"l": 10, "r": 10, "t": 150 if title else 110, "b": 10})
    return fig


def sentence_lines(table, *, title: str = "") -> Any:
    """The probability of each emotion sentence by sentence (``table``: ``sentence`` numbered from 1, ``p_*``)."""
    import plotly.graph_objects as go

    fig = go.Figure([go.Scatter(x=table["sentence"], y=table[score_column(label)], mode="lines+markers",
                                name=f"{EMOJI[label]} {label}", line={"color": colour_hex(label), "width": 2},
                                hovertemplate=f"{label}: %{{y:.0%}} in sentence %{{x}}<extra></extra>")
                     for label in EMOTIONS])
    fig.update_layout(title=title or None, height=360, legend=LEGEND_ABOVE,
                      xaxis={"title": "sentence", "dtick": 1, "tickformat": "d"},
                      yaxis={"range": [0, 1.03], "tickformat": ".0%", "title": "probability"},
                      margin={"l": 10, "r": 10, "t": 110 if title else 70, "b": 10})
    return fig


def contribution_bars(window_table, *, title: str = "") -> Any:
    """Each modality's share of every fused decision, stacked per window."""
    import plotly.graph_objects as go

    fig = go.Figure([go.Bar(x=window_table["start_s"], y=window_table[f"{m.name}_share"], name=m.name,
                            marker_color=m.colour) for m in MODALITIES.values()])
    fig.update_layout(barmode="stack", title=title or None, height=260, xaxis_title="window start (s)",
                      yaxis={"range": [0, 1], "tickformat": ".0%", "title": "share of the decision"},
                      margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10})
    return fig


def _outcome_colour(label: str) -> str:
    return colour_hex(label) if label in EMOTIONS else "#bbbbbb"


def outcome_counts(counts, *, title: str = "") -> Any:
    """Analyses per period, stacked by outcome (``counts``: ``period``, ``label``, ``analyses``; see
    :func:`emotion_core.analytics.label_counts_over_time`)."""
    import plotly.graph_objects as go

    from emotion_core.analytics import OUTCOMES

    labels = [label for label in OUTCOMES if label in set(counts["label"])]
    fig = go.Figure([go.Bar(x=counts.loc[counts["label"] == label, "period"],
                            y=counts.loc[counts["label"] == label, "analyses"],
                            name=f"{EMOJI.get(label, '')} {label}".strip(), marker_color=_outcome_colour(label),
                            hovertemplate=f"{label}: %{{y}} in %{{x}}<extra></extra>") for label in labels])
    if counts.empty:
        _note_empty(fig)
    fig.update_layout(barmode="stack", title=title or None, height=340, legend=LEGEND_ABOVE,
                      xaxis={"type": "category", "title": None}, yaxis={"title": "analyses", "rangemode": "tozero"},
                      margin={"l": 10, "r": 10, "t": 100 if title else 60, "b": 10})
    return fig


def outcome_shares(shares, by: str, *, title: str = "") -> Any:
    """One bar per ``by`` value (kind, user), split into the share of each outcome found at all, in %."""
    import plotly.graph_objects as go

    labels = [column for column in shares.columns if column != by and shares[column].sum() > 0]
    fig = go.Figure([go.Bar(y=shares[by], x=shares[label], orientation="h", marker_color=_outcome_colour(label),
                            name=f"{EMOJI.get(label, '')} {label}".strip(),
                            hovertemplate=f"{label}: %{{x:.0%}} of %{{y}}<extra></extra>") for label in labels])
    if shares.empty:
        _note_empty(fig)
    # Room above the bars for a legend of two rows under the title, so neither covers the other.
    fig.update_layout(barmode="stack", title=title or None, height=200 + 40 * len(shares), legend=LEGEND_ABOVE,
                      xaxis={"range": [0, 1.001], "tickformat": ".0%", "title": "share of the analyses"},
                      yaxis={"title": None}, margin={"l": 10, "r": 10, "t": 130 if title else 90, "b": 10})
    return fig
