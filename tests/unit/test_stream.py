"""Frame analysis with a stub predictor: detection cadence, tracking, smoothing, rows and summaries."""

import numpy as np
import pytest

from emotion_core.face.detection import FaceDetection
from emotion_core.face.stream import FrameAnalyzer, emotion_shares, rows_table, track_summary
from emotion_core.face.tracking import FaceTracker
from emotion_core.labels import EMOTIONS
from emotion_core.result import EmotionResult


class StubDetector:
    name = "stub"

    def __init__(self, boxes, score=1.0):
        self.boxes = boxes
        self.score = score
        self.calls = 0

    def detect(self, image):
        self.calls += 1
        return [FaceDetection(box=b, score=self.score) for b in self.boxes]


class StubPredictor:
    """Says 'happy' for faces left of x=100 and 'sad' elsewhere."""

    model_id = "stub"

    def __init__(self, boxes, score=1.0):
        self.detector = StubDetector(boxes, score)

    def assess(self, image, detections):
        probs = np.array([np.eye(7)[EMOTIONS.index("happy" if d.box[0] < 100 else "sad")] for d in detections])
        return probs, [None] * len(detections)

    def result(self, probs, detection, **fields):
        return EmotionResult.from_probabilities(probs, modality="face", model_id="stub", box=detection.box, **fields)


FRAME = np.zeros((240, 320, 3), np.uint8)


def test_detector_runs_every_nth_frame_and_tracks_in_between():
    predictor = StubPredictor([(10, 10, 50, 50), (200, 10, 50, 50)])
    analyzer = FrameAnalyzer(predictor=predictor, detect_every=3)
    reports = [analyzer.analyze(FRAME, time_s=i / 30) for i in range(7)]
    assert predictor.detector.calls == 3
    assert [r.detected for r in reports] == [True, False, False, True, False, False, True]
    assert all(len(r.faces) == 2 for r in reports)  # every frame is classified and can be drawn
    assert [(f.frame, f.track_id) for f in reports[-1].faces] == [(reports[-1].index, 1), (reports[-1].index, 2)]
    assert [f.label for f in reports[-1].faces] == ["happy", "sad"]


def test_rows_summary_and_shares():
    predictor = StubPredictor([(10, 10, 50, 50)])
    analyzer = FrameAnalyzer(predictor=predictor, tracker=FaceTracker(smoothing=0.0))
    rows = [row for i in range(4) for row in analyzer.analyze(FRAME, time_s=i / 10).rows()]
    predictor.detector.boxes = []
    rows += analyzer.analyze(FRAME, time_s=0.4).rows()
    table = rows_table(rows)
    assert list(table["label"]) == ["happy"] * 4 + ["no face"]
    assert str(table["track_id"].dtype) == "Int64" and table["track_id"].isna().sum() == 1
    summary = track_summary(table)
    assert summary.loc[0, "frames"] == 4 and summary.loc[0, "dominant"] == "happy"
    assert summary.loc[0, "last_s"] == pytest.approx(0.3)
    shares = emotion_shares(table)
    assert shares["happy"] == 1.0 and shares["no face (share of frames)"] == pytest.approx(0.2)


def test_annotate_draws_every_tracked_face():
    predictor = StubPredictor([(10, 10, 50, 50)])
    analyzer = FrameAnalyzer(predictor=predictor)
    report = analyzer.analyze(FRAME, time_s=0.0)
    assert (analyzer.annotate(FRAME, report) != 0).any()
    assert (FRAME == 0).all()


def test_detect_every_must_be_positive():
    with pytest.raises(ValueError):
        FrameAnalyzer(predictor=StubPredictor([]), detect_every=0)


def test_a_false_face_in_single_frames_never_becomes_a_row():
    predictor = StubPredictor([], score=0.6)
    analyzer = FrameAnalyzer(predictor=predictor, tracker=FaceTracker(confirm_hits=3))
    rows = []
    for i in range(12):
        predictor.detector.boxes = [(10 + 40 * (i % 5), 10, 50, 50)] if i % 2 == 0 else []
        rows += analyzer.analyze(FRAME, time_s=i / 30).rows()
    assert {row["label"] for row in rows} == {"no face"}


def test_a_weak_face_that_stays_is_shown_from_its_third_detection():
    predictor = StubPredictor([(10, 10, 50, 50)], score=0.6)
    analyzer = FrameAnalyzer(predictor=predictor, tracker=FaceTracker(confirm_hits=3))
    labels = [analyzer.analyze(FRAME, time_s=i / 30).rows()[0]["label"] for i in range(5)]
    assert labels == ["no face", "no face", "happy", "happy", "happy"]
