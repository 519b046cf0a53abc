import numpy as np
import pytest

from emotion_core.face.detection import FaceDetection
from emotion_core.face.tracking import FaceTracker, box_iou


def face(x, y, size=50, score=0.95) -> FaceDetection:
    return FaceDetection(box=(x, y, size, size), score=score)


class TestIoU:
    def test_values(self):
        assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
        assert box_iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
        assert box_iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)


class TestFaceTracker:
    def test_ids_follow_faces_that_move_a_little(self):
        tracker = FaceTracker()
        first = tracker.update([face(0, 0), face(200, 0)])
        second = tracker.update([face(205, 3), face(4, 2)])  # reordered and moved
        assert [t.track_id for t in first] == [1, 2]
        assert [t.track_id for t in second] == [2, 1]

    def test_new_face_gets_a_new_id_and_lost_faces_expire(self):
        tracker = FaceTracker(max_missed=2)
        tracker.update([face(0, 0)])
        assert [t.track_id for t in tracker.update([face(300, 300)])] == [2]
        for _ in range(3):
            tracker.update([])
        assert tracker.tracks == []

    def test_a_face_hidden_briefly_keeps_its_id(self):
        tracker = FaceTracker(max_missed=5)
        tracker.update([face(10, 10)])
        tracker.update([])
        assert [t.track_id for t in tracker.update([face(12, 10)])] == [1]

    def test_current_lists_tracks_seen_in_the_last_round(self):
        tracker = FaceTracker()
        tracker.update([face(0, 0), face(200, 0)])
        tracker.update([face(0, 0)])
        assert [t.track_id for t in tracker.current()] == [1]

    def test_smoothing_is_an_exponential_moving_average(self):
        tracker = FaceTracker(smoothing=0.5)
        (track,) = tracker.update([face(0, 0)])
        a, b = np.eye(7)[0], np.eye(7)[3]
        assert np.allclose(track.update_probabilities(a, tracker.smoothing), a)
        assert np.allclose(track.update_probabilities(b, tracker.smoothing), 0.5 * a + 0.5 * b)
        assert np.allclose(track.update_probabilities(b, tracker.smoothing), 0.25 * a + 0.75 * b)

    def test_smoothing_must_leave_room_for_new_frames(self):
        with pytest.raises(ValueError):
            FaceTracker(smoothing=1.0)


class TestConfirmation:
    def test_a_weak_face_is_shown_after_some_rounds_in_a_row(self):
        tracker = FaceTracker(confirm_hits=3, confirm_score=0.9)
        shown = []
        for x in (10, 12, 14, 16):
            tracker.update([face(x, 10, score=0.7)])
            shown.append([t.track_id for t in tracker.shown()])
        assert shown == [[], [], [1], [1]]

    def test_a_strong_face_is_shown_at_once(self):
        tracker = FaceTracker(confirm_hits=3, confirm_score=0.9)
        tracker.update([face(10, 10, score=0.95)])
        assert [t.track_id for t in tracker.shown()] == [1]

    def test_a_face_without_score_needs_the_rounds(self):
        tracker = FaceTracker(confirm_hits=2)
        tracker.update([face(10, 10, score=None)])
        assert tracker.shown() == []
        tracker.update([face(10, 10, score=None)])
        assert len(tracker.shown()) == 1

    def test_a_false_face_that_does_not_come_back_leaves_no_track(self):
        tracker = FaceTracker(confirm_hits=3, max_missed=10)
        tracker.update([face(10, 10, score=0.6)])
        tracker.update([])
        assert tracker.tracks == []
        tracker.update([face(10, 10, score=0.6)])  # back after a gap: a new tentative track, not a third hit
        tracker.update([face(10, 10, score=0.6)])
        assert tracker.shown() == [] and tracker.tracks[0].track_id == 2

    def test_a_confirmed_face_survives_missed_rounds(self):
        tracker = FaceTracker(confirm_hits=1, max_missed=5)
        tracker.update([face(10, 10, score=0.6)])
        tracker.update([])
        assert tracker.shown() == [] and len(tracker.tracks) == 1
        tracker.update([face(12, 10, score=0.6)])
        assert [t.track_id for t in tracker.shown()] == [1]

    def test_confirm_hits_must_be_positive(self):
        with pytest.raises(ValueError):
            FaceTracker(confirm_hits=0)
