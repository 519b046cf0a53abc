"""The shared Plotly figures: empty panels say so, sentence axes count whole sentences."""

import pandas as pd

from emotion_core.labels import EMOTIONS
from emotion_core.viz import NO_DATA, emotion_timeline, multimodal_timeline, segment_timeline, sentence_lines


def notes(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def segments(*spans) -> pd.DataFrame:
    return pd.DataFrame([{"start_s": a, "end_s": b, **{f"p_{e}": 1 / 7 for e in EMOTIONS}} for a, b in spans])


class TestEmptyPanels:
    def test_a_timeline_without_rows_or_faces(self):
        assert NO_DATA in notes(emotion_timeline(pd.DataFrame()))
        no_face = pd.DataFrame([{"time_s": 0.0, "track_id": None, "label": "no face",
                                 **{f"p_{e}": None for e in EMOTIONS}}])
        assert "no face in this window" in notes(emotion_timeline(no_face))

    def test_a_speech_timeline_without_voice(self):
        assert notes(segment_timeline(segments())) == ["no voiced segment"]
        assert notes(segment_timeline(segments((0, 1)))) == []

    def test_multimodal_notes_only_its_empty_panels(self):
        faces = pd.DataFrame([{"time_s": 0.5, "label": "happy", **{f"p_{e}": 1 / 7 for e in EMOTIONS}}])
        windows = segments((0, 1)).assign(disagreement=False, modalities="")
        fig = multimodal_timeline(faces, segments(), segments(), windows)
        empty = [a.y for a in fig.layout.annotations if a.text == NO_DATA]
        speech, text = (fig.get_subplot(row, 1).yaxis.domain for row in (2, 3))
        assert len(empty) == 2 and speech[0] < empty[0] < speech[1] and text[0] < empty[1] < text[1]

    def test_the_multimodal_legend_sits_below_the_title(self):
        fig = multimodal_timeline(pd.DataFrame(), segments(), segments(), segments(), title="Everything")
        assert fig.layout.legend.yanchor == "bottom" and fig.layout.margin.t >= 150


def test_sentences_are_counted_in_whole_numbers():
    table = segments((0, 1), (1, 2), (2, 3)).assign(sentence=[1, 2, 3])
    axis = sentence_lines(table).layout.xaxis
    assert axis.dtick == 1 and axis.tickformat == "d"


def test_outcome_charts_count_no_result_too_and_show_shares_in_percent():
    from emotion_core.viz import outcome_counts, outcome_shares

    counts = pd.DataFrame({"period": ["2026-12-01", "2026-12-01"], "label": ["happy", "no result"],
                           "analyses": [2, 1]})
    assert [bar.name for bar in outcome_counts(counts).data] == ["😄 happy", "no result"]
    shares = pd.DataFrame({"kind": ["image"], "happy": [2 / 3], "no result": [1 / 3]})
    fig = outcome_shares(shares, "kind")
    assert fig.layout.xaxis.tickformat == ".0%" and fig.data[1].marker.color == "#bbbbbb"
