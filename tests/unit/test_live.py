"""The live frame callback, driven the way streamlit-webrtc drives it: av.VideoFrame in, av.VideoFrame out."""

import av
import numpy as np

from emotion_core.face.live import LiveAnalyzer
from tests.unit.test_stream import StubPredictor


def test_callback_annotates_frames_and_hands_reports_over():
    analyzer = LiveAnalyzer(predictor=StubPredictor([(10, 10, 50, 50)]), detect_every=2)

    def on_frame(frame: av.VideoFrame) -> av.VideoFrame:  # the page's adapter
        return av.VideoFrame.from_ndarray(analyzer(frame.to_ndarray(format="bgr24")), format="bgr24")

    blank = np.zeros((120, 160, 3), np.uint8)
    outputs = [on_frame(av.VideoFrame.from_ndarray(blank, format="bgr24")) for _ in range(5)]
    assert all(o.width == 160 and o.height == 120 for o in outputs)
    assert (outputs[-1].to_ndarray(format="bgr24") != 0).any()  # the face is drawn on every frame
    reports = analyzer.drain()
    assert [r.index for r in reports] == [0, 1, 2, 3, 4]
    assert [r.detected for r in reports] == [True, False, True, False, True]
    assert reports[-1].faces[0].label == "happy"
    assert analyzer.drain() == []
    stats = analyzer.stats()
    assert stats.frames == 5 and stats.frames_with_face == 5 and stats.fps > 0


def test_oldest_reports_are_dropped_when_the_page_falls_behind():
    analyzer = LiveAnalyzer(predictor=StubPredictor([]), max_pending=3)
    for _ in range(5):
        analyzer(np.zeros((60, 80, 3), np.uint8))
    assert [r.index for r in analyzer.drain()] == [2, 3, 4]
