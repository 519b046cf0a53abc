"""Alert rules on timelines as the store keeps them: real videos and a live session through the shipped face
model, saved, read back, and the rules evaluated on the stored rows."""

from fractions import Fraction

import cv2
import numpy as np
import pytest

from emotion_core.accounts import Accounts
from emotion_core.alerts import Rule, evaluate_rules
from emotion_core.face.live import LiveAnalyzer
from emotion_core.face.video import analyze_video
from emotion_core.storage.db import TimelineRow
from emotion_core.storage.history import save_live, save_video
from tests.integration.test_video import encode_clip

FACE_FROM, FACE_UNTIL, CLIP_S = 0.7, 2.3, 3.0  # a 1.6 s stretch of a smiling face
LIVE_TIMES = [0.0, 0.4, 1.0, 1.1, 1.9, 2.2, 2.6, 3.5, 3.7]  # 0.1 to 0.9 s apart, the face from 1.0 until 2.6 s


def scene(face_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 160x120 frame with the face, and the same empty room without it."""
    room = np.full((120, 160, 3), 90, np.uint8)
    with_face = room.copy()
    with_face[:, 20:140] = cv2.resize(face_bgr, (120, 120), interpolation=cv2.INTER_AREA)
    return with_face, room


def happy_clip(face_bgr: np.ndarray, *, fps: float = 30) -> bytes:
    """A 3 s clip at ``fps`` with the smiling face from 0.7 s until 2.3 s, the empty room otherwise."""
    with_face, room = scene(face_bgr)
    face_frames = range(round(FACE_FROM * fps), round(FACE_UNTIL * fps))
    return encode_clip([with_face if i in face_frames else room for i in range(round(CLIP_S * fps))], fps=fps)


def happy_for(seconds: float) -> Rule:
    return Rule(f"happy for {seconds:g} s", "sustained", labels=("happy",), threshold=0.6, min_seconds=seconds)


def stored_rows(store, analysis, user) -> list[dict]:
    """The analysis' timeline read back from the database, as dicts."""
    columns = [column.key for column in TimelineRow.__table__.columns]
    return [{key: getattr(row, key) for key in columns} for row in store.analysis(analysis.id, user).rows]


@pytest.fixture()
def analyst(store):
    """An analyst, and an admin's rules: happy for 1 s and happy for 2 s."""
    accounts = Accounts(store)
    admin = accounts.create_user("ada", "a long enough password", "admin")
    for seconds in (1, 2):
        store.save_rule(admin, happy_for(seconds))
    return accounts.create_user("bob", "a long enough password", "analyst", by=admin)


@pytest.mark.parametrize("fps", [30, Fraction(30000, 1001)], ids=["30fps", "29.97fps"])
def test_a_video_stretch_fires_the_rule_it_meets(store, analyst, face_predictor, astronaut_bgr, fps):
    analysis = analyze_video(happy_clip(astronaut_bgr, fps=fps), face_predictor, name="clip.mp4", annotate=False)
    saved = save_video(store, analyst, analysis, settings={})
    rows = stored_rows(store, saved, analyst)
    times = sorted({row["start_s"] for row in rows})
    assert {round(b - a, 3) for a, b in zip(times, times[1:])} == {0.033, 0.034}  # stored to the millisecond
    assert all(row["end_s"] is None for row in rows)

    (alert,) = store.analysis(saved.id, analyst).alerts
    assert alert.rule_name == "happy for 1 s"
    assert (alert.start_s, alert.end_s) == (pytest.approx(FACE_FROM, abs=0.002), pytest.approx(FACE_UNTIL, abs=0.003))
    assert "1.6 s" in alert.detail
    assert [len(evaluate_rules([happy_for(s)], rows)) for s in (1.0, 1.6, 2.0)] == [1, 1, 0]


def test_a_live_session_with_uneven_frames_fires(store, analyst, face_predictor, astronaut_bgr, monkeypatch):
    with_face, room = scene(astronaut_bgr)
    analyzer = LiveAnalyzer(predictor=face_predictor)
    clock = {"now": 0.0}  # the analyser's clock, from an arbitrary origin as time.monotonic's
    monkeypatch.setattr("emotion_core.face.live.time.monotonic", lambda: 1000.0 + clock["now"])
    for time_s in LIVE_TIMES:
        clock["now"] = time_s
        analyzer(with_face if 1.0 <= time_s < 2.6 else room)
    frames = analyzer.drain()
    saved = save_live(store, analyst, frames, settings={}, summary={"frames": len(frames)})
    stored = stored_rows(store, saved, analyst)
    assert [row["start_s"] for row in stored] == LIVE_TIMES
    assert [row["label"] == "happy" for row in stored] == [1.0 <= t < 2.6 for t in LIVE_TIMES]

    (alert,) = store.analysis(saved.id, analyst).alerts
    assert (alert.rule_name, alert.start_s, alert.end_s) == ("happy for 1 s", 1.0, 2.6)
    assert [len(evaluate_rules([happy_for(s)], stored)) for s in (1.0, 1.6, 2.0)] == [1, 1, 0]
