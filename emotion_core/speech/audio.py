"""Decode and check audio where it enters the core: any common format, or a video's sound track, to 16 kHz mono.

soundfile (libsndfile) reads wav, flac, ogg and mp3; PyAV (FFmpeg) reads everything else, m4a/aac and the sound
track of mp4, mov, avi, mkv and webm files included.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from emotion_core.config import Settings
from emotion_core.errors import InvalidInputError, UnsupportedMediaError

SAMPLE_RATE = 16_000
AUDIO_TYPES = ("wav", "flac", "ogg", "mp3", "m4a", "aac")
MIN_SECONDS = 0.3
AudioSource = str | Path | bytes | BinaryIO
"""Shorter input is refused: a speech emotion needs at least a syllable or two."""
MAX_SAMPLES_PER_SECOND = 2 * 48_000
"""Samples (all channels together) decoded per second of the longest recording allowed: 48 kHz stereo. A shorter
file may have a higher rate or more channels; beyond that it is refused from its header, before decoding (a few
megabytes of FLAC can hold 20 minutes of 8-channel 655 kHz silence, 25 GB once decoded)."""


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at :data:`SAMPLE_RATE`, and where they came from."""

    samples: np.ndarray
    source: str

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def _read_bytes(source: AudioSource, name: str) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, Path)):
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"{name}: cannot be read ({exc.strerror}).") from None
    return source.read()


def check_audio(audio: Audio) -> Audio:
    """Validate decoded audio, as every speech predictor expects it: an :class:`Audio` of 1-D float32 samples."""
    if not isinstance(audio, Audio):
        raise InvalidInputError(f"audio: expected decoded Audio (see decode_audio), got {type(audio).__name__}.")
    if audio.samples.ndim != 1 or audio.samples.dtype != np.float32:
        raise InvalidInputError(f"audio: expected 1-D float32 samples at {SAMPLE_RATE} Hz, got "
                                f"{audio.samples.ndim}-D {audio.samples.dtype}.")
    return audio


SizeCheck = Callable[[float, float], None]
"""Called with a recording's seconds and sample values (all channels) as soon as they are known; raises when
they are over the limits."""


def _with_soundfile(data: bytes, check: SizeCheck) -> np.ndarray | None:
    import soundfile as sf
    import soxr

    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            check(f.frames / f.samplerate, f.frames * f.channels)
            resampler = soxr.ResampleStream(f.samplerate, SAMPLE_RATE, 1, dtype="float32")
            chunks = [resampler.resample_chunk(block.mean(axis=1), last=False)
                      for block in f.blocks(blocksize=f.samplerate * 10, dtype="float32", always_2d=True)]
            return np.concatenate([*chunks, resampler.resample_chunk(np.zeros(0, np.float32), last=True)])
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return None


def _with_pyav(data: bytes, check: SizeCheck, name: str) -> np.ndarray:
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
        if stream.duration and stream.time_base:
            seconds = float(stream.duration * stream.time_base)
            check(seconds, seconds * stream.rate * stream.channels)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks, total, values = [], 0, 0
        try:
            for frame in container.decode(stream):
                values += frame.samples * len(frame.layout.channels)
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                check(total / SAMPLE_RATE, values)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except (av.error.FFmpegError, ValueError) as exc:
            if isinstance(exc, InvalidInputError):
                raise
            if not chunks:
                raise InvalidInputError(f"{name}: the sound track is damaged and cannot be decoded.") from None
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def _check_size(seconds: float, values: float, *, max_seconds: float, name: str, advice: str) -> None:
    """Refuse a recording longer than ``max_seconds``, or with more samples (all channels) than
    :data:`MAX_SAMPLES_PER_SECOND` allows over that time."""
    minutes, most = max_seconds / 60, max_seconds * MAX_SAMPLES_PER_SECOND
    if seconds > max_seconds:
        raise InvalidInputError(f"{name}: {seconds / 60:,.1f} minutes is longer than the {minutes:.3g}-minute limit; "
                                f"{advice}")
    if values > most:
        raise InvalidInputError(f"{name}: {values:,.0f} samples (all channels) is more than the {most:,.0f} this app "
                                f"decodes ({minutes:,.0f} minutes of 48 kHz stereo); convert it to mono or a lower "
                                "sample rate first.")


def decode_audio(source: AudioSource, *, name: str = "audio", max_seconds: float = Settings.max_audio_seconds,
                 advice: str = "cut it first.") -> Audio:
    """Decode audio (or a video's sound track) to 16 kHz mono float32.

    Parameters
    ----------
    source : path, bytes or binary file
    name : str
        How the input is called in messages.
    max_seconds : float
        Longer input is refused, from its header where it has one.
    advice : str
        What the message about too long an input tells the user to do.

    Raises
    ------
    InvalidInputError
        Empty, not audio, no sound track, damaged, too long, or shorter than :data:`MIN_SECONDS`.
    """
    data = _read_bytes(source, name)
    if not data:
        raise InvalidInputError(f"{name}: expected an audio file ({', '.join(AUDIO_TYPES)}), got 0 bytes.")
    check = functools.partial(_check_size, max_seconds=max_seconds, name=name, advice=advice)
    samples = _with_soundfile(data, check)
    if samples is None:
        samples = _with_pyav(data, check, name)
    samples = np.nan_to_num(samples.astype(np.float32, copy=False), copy=False)
    np.clip(samples, -1.0, 1.0, out=samples)  # in place: 20 minutes are 77 MB a copy
    if len(samples) < MIN_SECONDS * SAMPLE_RATE:
        raise InvalidInputError(f"{name}: {len(samples) / SAMPLE_RATE * 1000:.0f} ms of sound is too short to judge; "
                                f"at least {MIN_SECONDS:.1f} s is needed.")
    return Audio(samples=samples, source=name)
