"""Video files: decode with PyAV, analyse every frame (or every n-th), export the table and an annotated video."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from emotion_core.config import Settings
from emotion_core.errors import InvalidInputError, UnsupportedMediaError
from emotion_core.face.stream import FrameAnalyzer, FrameReport, frames_table, track_summary
from emotion_core.face.tracking import FaceTracker

VIDEO_TYPES = ("mp4", "avi", "mov", "mkv", "webm")


@dataclass
class VideoAnalysis:
    """The result of :func:`analyze_video`.

    ``frames`` is the timeline: one :class:`~emotion_core.face.stream.FrameReport` per analysed frame, holding the
    :class:`~emotion_core.result.EmotionResult` of each face seen in it. :attr:`rows` flattens it for tables and
    JSON: one row per face per analysed frame (``frame, time_s, track_id, label, confidence, p_*, box``) and one
    ``no face`` row for an analysed frame without faces.
    """

    source: str
    width: int
    height: int
    fps: float
    frames_read: int
    frames_analysed: int
    frames: list[FrameReport]
    annotated_mp4: bytes | None = None
    cancelled: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The timeline as flat rows (see :meth:`~emotion_core.face.stream.FrameReport.rows`)."""
        return [row for frame in self.frames for row in frame.rows()]

    def table(self):
        """The rows as a pandas DataFrame."""
        return frames_table(self.frames)

    def track_summary(self, table=None):
        """One row per face track (see :func:`emotion_core.face.stream.track_summary`), from ``table`` when the caller
        already has it."""
        return track_summary(self.table() if table is None else table)

    def to_dict(self) -> dict[str, Any]:
        """The JSON that ``analyze VIDEO --json`` prints."""
        return {
            "source": self.source,
            "modality": "face",
            "video": {"width": self.width, "height": self.height, "fps": round(self.fps, 3),
                      "frames_read": self.frames_read, "frames_analysed": self.frames_analysed},
            "cancelled": self.cancelled,
            "warnings": self.warnings,
            "tracks": self.track_summary().round(4).to_dict(orient="records"),
            "rows": self.rows,
        }


def _open(source: str | Path | bytes | BinaryIO, name: str, max_bytes: int):
    import av

    if isinstance(source, bytes):
        size, handle = len(source), io.BytesIO(source)
    elif isinstance(source, (str, Path)):
        try:
            size, handle = Path(source).stat().st_size, str(source)
        except OSError as exc:
            raise InvalidInputError(f"{name}: cannot be read ({exc.strerror}).") from None
    else:
        handle = source
        size = source.seek(0, io.SEEK_END)
        source.seek(0)
    if size == 0:
        raise InvalidInputError(f"{name}: expected a video file ({', '.join(VIDEO_TYPES)}), got 0 bytes.")
    if size > max_bytes:
        raise InvalidInputError(f"{name}: {size / 2**20:,.0f} MB is more than the {max_bytes / 2**20:,.0f} MB "
                                "limit for videos; cut or compress it first.")
    try:
        container = av.open(handle, mode="r")
    except (av.error.FFmpegError, ValueError) as exc:
        raise UnsupportedMediaError(
            f"{name}: not a video this app can read; the file may be damaged, truncated or of another kind "
            f"({exc.__class__.__name__})."
        ) from None
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["nothing"]
        container.close()
        raise UnsupportedMediaError(f"{name}: the file has no video track (it holds {', '.join(kinds)}).")
    stream = container.streams.video[0]
    if stream.codec_context is None or not stream.codec_context.codec.is_decoder:
        container.close()
        raise InvalidInputError(f"{name}: the video codec is not supported.")
    return container, stream


@dataclass(frozen=True)
class VideoProbe:
    """What a quick look at a video file tells: its first frame's size, frame rate and stated duration."""

    width: int
    height: int
    fps: float
    duration_s: float | None  # None when the container does not state it


def probe_video(source: str | Path | bytes, *, name: str = "video", max_bytes: int = Settings.max_upload_bytes,
                max_seconds: float | None = None) -> VideoProbe:
    """Open a video and decode its first frame, so a file that cannot be analysed is refused at once.

    Raises
    ------
    InvalidInputError
        As :func:`analyze_video` would for the same file, and for a stated duration over ``max_seconds``.
    """
    import av

    container, stream = _open(source, name, max_bytes)
    try:
        frame = next(container.decode(stream), None)
    except (av.error.FFmpegError, ValueError) as exc:
        raise InvalidInputError(f"{name}: the video cannot be decoded ({exc.__class__.__name__}).") from None
    finally:
        container.close()
    if frame is None:
        raise InvalidInputError(f"{name}: the video has no frames.")
    duration = (float(stream.duration * stream.time_base) if stream.duration
                else container.duration / av.time_base if container.duration else None)
    if duration is not None and max_seconds is not None and duration > max_seconds:
        raise InvalidInputError(f"{name}: {duration / 60:,.1f} minutes is longer than the {max_seconds / 60:,.0f} "
                                "minutes analysed at once; cut it first.")
    return VideoProbe(width=frame.width, height=frame.height, fps=float(stream.average_rate or 0),
                      duration_s=duration)


class _Mp4Writer:
    """H.264 in MP4, in memory, for the annotated video."""

    def __init__(self, width: int, height: int, fps: float):
        import av

        self.buffer = io.BytesIO()
        self.container = av.open(self.buffer, mode="w", format="mp4")
        self.stream = self.container.add_stream("libx264", rate=max(1, round(fps)))
        self.stream.width, self.stream.height = width - width % 2, height - height % 2
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {"crf": "23", "preset": "veryfast"}

    def write(self, image_bgr: np.ndarray) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(image_bgr[: self.stream.height, : self.stream.width], format="bgr24")
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> bytes:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
        return self.buffer.getvalue()


def analyze_video(source: str | Path | bytes | BinaryIO, predictor, *, name: str = "video", stride: int = 1,
                  detect_every: int = 1, smoothing: float = 0.6, annotate: bool = True,
                  max_bytes: int = Settings.max_upload_bytes, progress: Callable[[float], None] | None = None,
                  should_stop: Callable[[], bool] | None = None, start_s: float = 0.0,
                  end_s: float | None = None) -> VideoAnalysis:
    """Analyse the faces in a video file, frame by frame.

    Parameters
    ----------
    source : path, bytes or binary file
        An mp4, avi, mov, mkv or webm file (anything FFmpeg decodes).
    predictor : FacePredictor
    name : str
        The file's name, for messages and the result.
    stride : int
        Analyse every n-th frame (1: every frame). Frames in between are annotated with the last result.
    detect_every : int
        Run the face detector on every n-th analysed frame; faces are tracked in between.
    smoothing : float
        Weight of the past in each track's moving average of probabilities (0: none).
    annotate : bool
        Also encode the annotated video (H.264 MP4).
    max_bytes : int
        Larger files are refused before decoding.
    progress : callable, optional
        Called with the fraction done, from 0 to 1.
    should_stop : callable, optional
        Polled between frames; when it returns True the analysis stops and is marked ``cancelled``.
    start_s, end_s : float
        Analyse only the frames shown from ``start_s`` up to (not including) ``end_s`` seconds, so that a long
        video can be cut into parts analysed side by side (``batch``). Each part starts with fresh face tracks;
        ``stride`` counts from its first frame.

    Raises
    ------
    InvalidInputError
        Not a video, no video track, an unsupported codec, no frame at all, or over the size limit. A file
        that breaks off part-way is analysed up to the break, with a warning.
    """
    import av

    if stride < 1:
        raise InvalidInputError(f"stride: expected 1 or more, got {stride}.")
    if start_s < 0 or (end_s is not None and end_s <= start_s):
        raise InvalidInputError(f"{name}: expected 0 <= start_s < end_s, got {start_s} and {end_s}.")
    container, stream = _open(source, name, max_bytes)
    fps = float(stream.average_rate or stream.guessed_rate or 30)
    half_frame = 0.5 / fps
    expected = stream.frames or (float(stream.duration * stream.time_base) * fps if stream.duration else 0)
    analyzer = FrameAnalyzer(predictor=predictor, tracker=FaceTracker(smoothing=smoothing), detect_every=detect_every)
    frames: list[FrameReport] = []
    warnings: list[str] = []
    writer, last_report = None, None
    frames_read = frames_analysed = 0
    cancelled = False
    width = height = 0
    try:
        if start_s > 0 and stream.time_base:  # to the key frame before start_s; frames before it are skipped
            container.seek(int(start_s / stream.time_base), stream=stream, backward=True)
        for frame in container.decode(stream):
            if should_stop is not None and should_stop():
                cancelled = True
                break
            time_s = float(frame.time) if frame.time is not None else start_s + frames_read / fps
            if time_s < start_s - half_frame:
                continue
            if end_s is not None and time_s >= end_s - half_frame:
                break
            image = frame.to_ndarray(format="bgr24")
            height, width = image.shape[:2]
            if frames_read % stride == 0:
                last_report = analyzer.analyze(image, time_s=time_s)
                frames.append(last_report)
                frames_analysed += 1
            if annotate:
                writer = writer or _Mp4Writer(width, height, fps)
                writer.write(analyzer.annotate(image, last_report) if last_report else image)
            frames_read += 1
            if progress is not None and expected:
                progress(min(1.0, frames_read / expected))
    except (av.error.FFmpegError, ValueError) as exc:
        if frames_read == 0:
            raise InvalidInputError(f"{name}: the video cannot be decoded ({exc.__class__.__name__}).") from None
        warnings.append(f"The file breaks off after frame {frames_read} ({frames_read / fps:.1f} s); "
                        "the rest could not be decoded.")
    finally:
        container.close()
    if frames_read == 0 and not cancelled:
        raise InvalidInputError(f"{name}: the video has no frames.")
    return VideoAnalysis(
        source=name, width=width, height=height, fps=fps, frames_read=frames_read, frames_analysed=frames_analysed,
        frames=frames, annotated_mp4=writer.close() if writer else None, cancelled=cancelled, warnings=warnings,
    )

