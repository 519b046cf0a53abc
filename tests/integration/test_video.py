"""Video files end to end with the shipped face model: a clip the test writes, and broken ones."""

import io
import json

import av
import numpy as np
import pytest

from emotion_core.cli import main
from emotion_core.errors import InvalidInputError
from emotion_core.face.video import analyze_video

FACE_FRAMES, EMPTY_FRAMES = 20, 10


def encode_clip(frames, *, fmt="mp4", codec="libx264", fps=30) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def clip(astronaut_bgr) -> bytes:
    """640x480: the smiling astronaut for 20 frames, then an empty grey room for 10."""
    import cv2

    face = cv2.resize(astronaut_bgr, (400, 400), interpolation=cv2.INTER_AREA)
    with_face = np.full((480, 640, 3), 90, np.uint8)
    with_face[40:440, 120:520] = face
    empty = np.full((480, 640, 3), 90, np.uint8)
    return encode_clip([with_face] * FACE_FRAMES + [empty] * EMPTY_FRAMES)


def test_every_frame_gets_a_row(face_predictor, clip):
    result = analyze_video(clip, face_predictor, name="clip.mp4")
    table = result.table()
    assert result.frames_read == result.frames_analysed == FACE_FRAMES + EMPTY_FRAMES
    assert len(table) == FACE_FRAMES + EMPTY_FRAMES
    assert list(table["label"][:FACE_FRAMES]) == ["happy"] * FACE_FRAMES
    assert list(table["label"][FACE_FRAMES:]) == ["no face"] * EMPTY_FRAMES
    assert table["track_id"][:FACE_FRAMES].tolist() == [1] * FACE_FRAMES
    assert table["time_s"].is_monotonic_increasing
    (track,) = result.track_summary().to_dict(orient="records")
    assert track["dominant"] == "happy" and track["frames"] == FACE_FRAMES


def no_face_frames(image_bgr: np.ndarray, frames: int) -> list[np.ndarray]:
    """A camera's slow pan and zoom across a photo, as 640x480 frames."""
    import cv2

    h, w = image_bgr.shape[:2]
    views = []
    for i in range(frames):
        t = i / (frames - 1)
        ch = int(h * (0.9 - 0.4 * t))
        cw = min(w, ch * 4 // 3)
        x, y = int((w - cw) * t), int((h - ch) * (1 - t))
        views.append(cv2.resize(image_bgr[y:y + ch, x:x + cw], (640, 480), interpolation=cv2.INTER_AREA))
    return views


def test_a_clip_without_a_face_has_only_no_face_rows(face_predictor, coffee_bgr):
    """Pans across photos where the detector alone, at its former threshold of 0.5, saw faces in 20 frames."""
    import cv2
    from skimage import data

    photos = (data.rocket(), data.hubble_deep_field())
    scenes = [coffee_bgr] + [cv2.cvtColor(photo, cv2.COLOR_RGB2BGR) for photo in photos]
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    frames = [frame for scene in scenes for frame in no_face_frames(scene, 24)] + [noise] * 5
    result = analyze_video(encode_clip(frames), face_predictor, name="empty.mp4", annotate=False)
    assert result.frames_analysed == len(frames)
    assert {row["label"] for row in result.rows} == {"no face"} and result.track_summary().empty


def test_annotated_video_is_h264_with_every_frame(face_predictor, clip):
    result = analyze_video(clip, face_predictor, name="clip.mp4")
    with av.open(io.BytesIO(result.annotated_mp4)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
    assert len(frames) == FACE_FRAMES + EMPTY_FRAMES and frames[0].shape == (480, 640, 3)


def test_stride_analyses_every_nth_frame(face_predictor, clip):
    result = analyze_video(clip, face_predictor, name="clip.mp4", stride=3, annotate=False)
    assert result.frames_analysed == 10 and result.annotated_mp4 is None
    assert result.table()["frame"].tolist()[:3] == [0, 1, 2]  # analysed frames are numbered in order


def test_a_time_range_is_a_part_of_the_whole(face_predictor, clip):
    whole = analyze_video(clip, face_predictor, annotate=False)
    first = analyze_video(clip, face_predictor, annotate=False, end_s=0.5)
    rest = analyze_video(clip, face_predictor, annotate=False, start_s=0.5)  # seeks, then skips to 0.5 s
    assert first.frames_read == 15 and rest.frames_read == FACE_FRAMES + EMPTY_FRAMES - 15
    assert [r["time_s"] for r in first.rows + rest.rows] == [r["time_s"] for r in whole.rows]
    assert [r["label"] for r in first.rows + rest.rows] == [r["label"] for r in whole.rows]
    with pytest.raises(InvalidInputError, match="start_s < end_s"):
        analyze_video(clip, face_predictor, start_s=1.0, end_s=0.5)


def test_cancel_and_progress(face_predictor, clip):
    seen = []
    result = analyze_video(clip, face_predictor, name="clip.mp4", progress=seen.append,
                           should_stop=lambda: len(seen) >= 5)
    assert result.cancelled and result.frames_read == 5
    assert seen == sorted(seen) and 0 < seen[-1] <= 1


def test_webm_vp9(face_predictor, astronaut_bgr):
    import cv2

    frame = cv2.resize(astronaut_bgr, (320, 320))
    result = analyze_video(encode_clip([frame] * 5, fmt="webm", codec="libvpx-vp9"), face_predictor, name="c.webm")
    assert result.frames_read == 5 and set(result.table()["label"]) == {"happy"}


class TestBadVideos:
    def test_empty_and_not_a_video(self, face_predictor):
        with pytest.raises(InvalidInputError, match="got 0 bytes"):
            analyze_video(b"", face_predictor, name="e.mp4")
        with pytest.raises(InvalidInputError, match="not a video this app can read"):
            analyze_video(b"\x00\x01 definitely not a video" * 200, face_predictor, name="x.mp4")

    def test_truncated(self, face_predictor, clip):
        with pytest.raises(InvalidInputError, match="damaged, truncated"):
            analyze_video(clip[: len(clip) // 2], face_predictor, name="cut.mp4")

    def test_audio_only(self, face_predictor):
        buffer = io.BytesIO()
        with av.open(buffer, "w", format="mp4") as container:
            stream = container.add_stream("aac", rate=16000)
            for i in range(20):
                frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 16000, i * 1024
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        with pytest.raises(InvalidInputError, match="no video track .*audio"):
            analyze_video(buffer.getvalue(), face_predictor, name="speech.m4a")

    def test_over_the_size_limit(self, face_predictor, clip):
        with pytest.raises(InvalidInputError, match="limit for videos"):
            analyze_video(clip, face_predictor, name="big.mp4", max_bytes=len(clip) - 1)

    def test_bad_stride(self, face_predictor, clip):
        with pytest.raises(InvalidInputError, match="stride"):
            analyze_video(clip, face_predictor, stride=0)


def test_cli_json_and_csv(capsys, tmp_path, clip):
    path = tmp_path / "clip.mp4"
    path.write_bytes(clip)
    assert main(["analyze", str(path), "--json", "--stride", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["video"]["frames_analysed"] == 15 and len(data["rows"]) == 15
    assert data["tracks"][0]["dominant"] == "happy"
    annotated = tmp_path / "annotated.mp4"
    assert main(["analyze", str(path), "--csv", "--annotated", str(annotated)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("frame,time_s,") and len(lines) == 1 + FACE_FRAMES + EMPTY_FRAMES
    assert annotated.stat().st_size > 1000
