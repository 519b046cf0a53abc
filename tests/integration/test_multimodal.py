"""Multimodal analysis of a video the test writes: a real face, a voice-like sound track, a timed transcript."""

import io
import json

import av
import cv2
import numpy as np
import pytest

from emotion_core.fusion.multimodal import analyze_multimodal
from emotion_core.fusion.windows import default_weights
from emotion_core.modelcard import list_cards
from emotion_core.speech.predictor import SpeechPredictor
from emotion_core.text.predictor import TextPredictor
from tests.conftest import MODELS
from tests.integration.test_speech import syllables

SECONDS, FPS, RATE = 4, 10, 16_000
SRT = "1\n00:00:00,500 --> 00:00:02,000\nI am so happy to see you!\n\n2\n00:00:02,500 --> 00:00:03,800\n" \
      "This is wonderful news.\n"


def talking_face(face_bgr: np.ndarray, *, sound: bool = True, face_seconds: float = SECONDS) -> bytes:
    """An mp4: the face for ``face_seconds`` then an empty frame, and (optionally) speech-like sound."""
    buffer = io.BytesIO()
    face = cv2.resize(face_bgr, (320, 320))
    with av.open(buffer, "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = 320, 320, "yuv420p"
        audio = None
        if sound:
            audio = container.add_stream("aac", rate=RATE)
            audio.layout = "mono"
        for i in range(SECONDS * FPS):
            image = face if i < face_seconds * FPS else np.full_like(face, 90)
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            samples = np.concatenate([syllables(1.5), np.zeros(RATE // 2, np.float32), syllables(2.0)])
            for start in range(0, len(samples) - 1024, 1024):
                frame = av.AudioFrame.from_ndarray(samples[None, start:start + 1024], format="fltp", layout="mono")
                frame.sample_rate, frame.pts = RATE, start
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def predictors(face_predictor):
    return {"face": face_predictor, "speech": SpeechPredictor.from_dir(MODELS), "text": TextPredictor.from_dir(MODELS)}


def test_every_modality_on_one_axis(predictors, astronaut_bgr):
    weights = default_weights(list_cards(MODELS))
    heard: list[tuple[float, str]] = []
    result = analyze_multimodal(talking_face(astronaut_bgr), transcript=SRT, transcript_name="talk.srt",
                                weights=weights, progress=lambda done, stage: heard.append((done, stage)), **predictors)
    stages = list(dict.fromkeys(stage.split(":")[0] for _, stage in heard))
    assert stages == ["Faces", "Speech", "Text", "Fusion", "Done"]
    assert [done for done, _ in heard] == sorted(done for done, _ in heard) and heard[-1][0] == 1.0
    assert result.missing == {}
    assert len(result.windows) == SECONDS
    assert [sorted(w.per_modality) for w in result.windows][:2] == [["face", "speech", "text"]] * 2
    assert {len(result.cues), len(result.audio.segments)} == {2}
    assert all(w.fused is not None and abs(sum(w.contributions.values()) - 1) < 1e-6 for w in result.windows)
    data = json.loads(json.dumps(result.to_dict(), default=str))
    assert data["modality"] == "fused" and len(data["windows"]) == SECONDS


def test_missing_modalities_are_reported_not_guessed(predictors, astronaut_bgr):
    weights = {"face": 1.0, "speech": 1.0, "text": 1.0}
    silent = analyze_multimodal(talking_face(astronaut_bgr, sound=False, face_seconds=2), weights=weights,
                                **predictors)
    assert set(silent.missing) == {"speech", "text"}
    assert "no sound track" in silent.missing["speech"]
    assert [w.fused is not None for w in silent.windows] == [True, True, False, False]


def test_an_untimed_transcript_counts_for_the_whole_clip(predictors, astronaut_bgr):
    result = analyze_multimodal(talking_face(astronaut_bgr), transcript="I love this!", weights={
        "face": 1.0, "speech": 1.0, "text": 1.0}, **predictors)
    assert "no times" in result.notes[0]
    assert all("text" in w.per_modality for w in result.windows)
