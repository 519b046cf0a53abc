"""Decode and check audio where it enters the core: any common format, or a video's sound track, to 16 kHz mono.

soundfile (libsndfile) reads wav, flac, ogg and mp3; PyAV (FFmpeg) reads everything else, m4a/aac and the sound
track of mp4, mov, avi, mkv and webm files included.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from emotion_core.errors import InvalidInputError, UnsupportedMediaError

SAMPLE_RATE = 16_000
AUDIO_TYPES = ("wav", "flac", "ogg", "mp3", "m4a", "aac")
MIN_SECONDS = 0.3
"""Shorter input is refused: a speech emotion needs at least a syllable or two."""


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at :data:`SAMPLE_RATE`, and where they came from."""

    samples: np.ndarray
    source: str

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def _read_bytes(source: str | Path | bytes | BinaryIO, name: str) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, Path)):
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"{name}: cannot be read ({exc.strerror}).") from None
    return source.read()


def _with_soundfile(data: bytes, max_seconds: float, name: str) -> tuple[np.ndarray, int] | None:
    import soundfile as sf

    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            if f.frames / f.samplerate > max_seconds:
                _too_long(f.frames / f.samplerate, max_seconds, name)
            samples = f.read(dtype="float32", always_2d=True)
            return samples.mean(axis=1), f.samplerate
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return None


def _with_pyav(data: bytes, max_seconds: float, name: str) -> tuple[np.ndarray, int]:
    import av

    try:
        container = av.open(io.BytesIO(data))
    except (av.error.FFmpegError, ValueError):
        raise UnsupportedMediaError(f"{name}: not an audio or video file this app can read; expected "
                                f"{', '.join(AUDIO_TYPES)} or a video with a sound track.") from None
    with container:
        if not container.streams.audio:
            kinds = sorted({s.type for s in container.streams}) or ["nothing"]
            raise UnsupportedMediaError(f"{name}: the file has no sound track (it holds {', '.join(kinds)}).")
        stream = container.streams.audio[0]
        if stream.duration and stream.time_base and float(stream.duration * stream.time_base) > max_seconds:
            _too_long(float(stream.duration * stream.time_base), max_seconds, name)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks, total = [], 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if total > max_seconds * SAMPLE_RATE:
                    _too_long(total / SAMPLE_RATE, max_seconds, name)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except (av.error.FFmpegError, ValueError):
            if not chunks:
                raise InvalidInputError(f"{name}: the sound track is damaged and cannot be decoded.") from None
    return (np.concatenate(chunks) if chunks else np.zeros(0, np.float32)), SAMPLE_RATE


def _too_long(seconds: float, max_seconds: float, name: str):
    raise InvalidInputError(f"{name}: {seconds / 60:,.1f} minutes is longer than the {max_seconds / 60:,.0f}-minute "
                            "limit; cut it first.")


def decode_audio(source: str | Path | bytes | BinaryIO, *, name: str = "audio",
                 max_seconds: float = 20 * 60) -> Audio:
    """Decode audio (or a video's sound track) to 16 kHz mono float32.

    Parameters
    ----------
    source : path, bytes or binary file
    name : str
        How the input is called in messages.
    max_seconds : float
        Longer input is refused, from its header where it has one.

    Raises
    ------
    InvalidInputError
        Empty, not audio, no sound track, damaged, too long, or shorter than :data:`MIN_SECONDS`.
    """
    data = _read_bytes(source, name)
    if not data:
        raise InvalidInputError(f"{name}: expected an audio file ({', '.join(AUDIO_TYPES)}), got 0 bytes.")
    decoded = _with_soundfile(data, max_seconds, name) or _with_pyav(data, max_seconds, name)
    samples, rate = decoded
    if rate != SAMPLE_RATE and len(samples):
        import soxr

        samples = soxr.resample(samples, rate, SAMPLE_RATE)
    samples = np.clip(np.nan_to_num(samples.astype(np.float32)), -1.0, 1.0)
    if len(samples) < MIN_SECONDS * SAMPLE_RATE:
        raise InvalidInputError(f"{name}: {len(samples) / SAMPLE_RATE * 1000:.0f} ms of sound is too short to judge; "
                                f"at least {MIN_SECONDS:.1f} s is needed.")
    return Audio(samples=samples, source=name)
