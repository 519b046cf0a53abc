"""Speech emotion: voiced segments, acoustic features, and the shipped classifier.

Two feature sets are compared in training (``emotion_core.training.speech.train``), and the model card says which
one the shipped model reads (``input.kind``):

- ``compare_functionals``: openSMILE's ComParE 2016 set, 6,373 statistics (means, percentiles, slopes, ...)
  of 65 frame-level descriptors: loudness, MFCCs, spectral shape, voicing, pitch, jitter and shimmer. Pitch,
  voice quality and their movement carry arousal and valence; summarising them over the whole segment gives a
  fixed-length vector that a linear model learns well from the corpora's 1,500 training clips.
- ``mfcc_frames``: 40 MFCCs with their first and second differences, 25 ms frames every 10 ms (librosa), read
  frame by frame by the seed paper's (001) 1-D CNN.

The shipped model is the arm that did better on held-out speakers (the card's ``training.shipped_arm``).

Speaker calibration: voices differ more from each other than one voice differs between emotions, so a model
reading absolute values mistakes a deep calm voice for a sad one. Given a few other recordings of the same
speaker (any emotions; their labels are never needed), :func:`speaker_profile` takes the mean functionals of
their voiced segments, and the calibrated model (``speech_emotion_calibrated``, trained on features centred on
each training speaker's own mean) reads how far a segment departs from that speaker's average.

Self-calibration: a long recording needs no enrolment. When it holds at least the self-calibrated model's
``input.min_segments`` voiced segments, each segment's functionals are standardised on the recording's own
segments (:func:`normalise_recording`) and read by ``speech_emotion_self_calibrated``, trained on features
standardised per speaker the same way; a shorter recording is judged clip by clip by the shipped model. This is
what lifts voices, languages and rooms the models never heard (the cards' leave-one-corpus-out figures).
"""

from __future__ import annotations

import copy
import functools
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotion_core.confidence import DistanceModel, apply_temperature, uncertain_reason
from emotion_core.errors import InvalidInputError, ModelUnavailableError
from emotion_core.labels import EMOTIONS
from emotion_core.modelcard import card_path, load_card
from emotion_core.result import EmotionResult
from emotion_core.runtime import analysis_threads
from emotion_core.speech.audio import SAMPLE_RATE, Audio, AudioSource, check_audio, decode_audio

SPEECH_MODEL = "speech_emotion"
CALIBRATED_SPEECH_MODEL = "speech_emotion_calibrated"
SELF_CALIBRATED_SPEECH_MODEL = "speech_emotion_self_calibrated"
MIN_CALIBRATION_SEGMENTS = 5
COMPARE_FEATURES = 6373  # openSMILE's ComParE 2016 functionals
HOP = 160  # 10 ms at 16 kHz
N_FFT = 400  # 25 ms
N_MFCC = 40
MIN_FRAMES = 16


@dataclass(frozen=True)
class Segment:
    """A stretch of voice, in seconds from the start."""

    start_s: float
    end_s: float

    @property
    def seconds(self) -> float:
        return self.end_s - self.start_s


def frame_energy_db(samples: np.ndarray) -> np.ndarray:
    """RMS level of each 25 ms frame (hop 10 ms, centred: zeros pad half a frame at each end), in dB full scale.

    Frames overlap, so the squares are summed once per 2.5 ms block (a divisor of the frame, the hop and the
    padding) and each frame adds its ten blocks: linear in the recording's length, where librosa's ``rms``
    squares every window (two and a half times the recording's samples; 20 to 400 ms on five minutes of audio)."""
    block = math.gcd(N_FFT, HOP, N_FFT // 2)
    squares = np.square(np.asarray(samples, np.float32))
    squares = np.pad(squares, (0, -len(squares) % block))
    blocks = np.pad(squares.reshape(-1, block).sum(1, dtype=np.float64), N_FFT // 2 // block)
    frames = 1 + len(samples) // HOP
    window = np.lib.stride_tricks.sliding_window_view(blocks, N_FFT // block)[:: HOP // block][:frames]
    rms = np.sqrt(window.sum(1) / N_FFT)
    return 20 * np.log10(np.maximum(rms, 1e-6))


def voiced_segments(samples: np.ndarray, *, relative_db: float = -35.0, floor_db: float = -50.0,
                    min_voice_s: float = 0.25, max_gap_s: float = 0.35, max_segment_s: float = 6.0) -> list[Segment]:
    """Stretches of voice found by frame energy (an energy voice-activity detector).

    A frame is voiced when it is louder than ``floor_db`` and within ``relative_db`` of the loudest frame;
    voiced runs closer than ``max_gap_s`` merge, runs shorter than ``min_voice_s`` are dropped, and long ones
    are cut into pieces of at most ``max_segment_s``. Pure silence gives an empty list.
    """
    level = frame_energy_db(samples)
    if level.size == 0:
        return []
    voiced = (level > floor_db) & (level > level.max() + relative_db)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(int), [0]])))
    runs = [[start * HOP / SAMPLE_RATE, end * HOP / SAMPLE_RATE] for start, end in zip(edges[::2], edges[1::2])]
    merged: list[list[float]] = []
    for start, end in runs:
        if merged and start - merged[-1][1] <= max_gap_s:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    duration = len(samples) / SAMPLE_RATE
    segments = []
    for start, end in merged:
        if end - start < min_voice_s:
            continue
        pieces = int(np.ceil((end - start) / max_segment_s))
        step = (end - start) / pieces
        segments += [Segment(round(float(start + i * step), 3), round(float(min(duration, start + (i + 1) * step)), 3))
                     for i in range(pieces)]
    return segments


def mfcc_features(samples: np.ndarray) -> np.ndarray:
    """``(frames, 120)`` float32: 40 MFCCs, their deltas and delta-deltas, per 10 ms."""
    import librosa

    mfcc = librosa.feature.mfcc(y=samples, sr=SAMPLE_RATE, n_mfcc=N_MFCC, n_fft=N_FFT, hop_length=HOP, n_mels=64)
    width = min(9, mfcc.shape[1] - (1 - mfcc.shape[1] % 2)) if mfcc.shape[1] >= 3 else 0
    if width >= 3:
        deltas = [librosa.feature.delta(mfcc, width=width, order=k) for k in (1, 2)]
    else:
        deltas = [np.zeros_like(mfcc)] * 2
    return np.concatenate([mfcc, *deltas]).T.astype(np.float32)


def compare_functionals(samples: np.ndarray) -> np.ndarray:
    """``(6373,)`` float32: openSMILE's ComParE 2016 functionals of one stretch of 16 kHz speech."""
    values = _compare_extractor()(samples.astype(np.float32), SAMPLE_RATE)[0, :, 0]
    return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def egemaps_functionals(samples: np.ndarray) -> np.ndarray:
    """``(88,)`` float32: openSMILE's eGeMAPS v02 functionals (pitch, loudness, voice quality, formants, spectral
    balance) of one stretch of 16 kHz speech: a small, knowledge-based set."""
    values = _compare_extractor("eGeMAPSv02")(samples.astype(np.float32), SAMPLE_RATE)[0, :, 0]
    return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def compare_egemaps_functionals(samples: np.ndarray) -> np.ndarray:
    """``(6461,)`` float32: the ComParE functionals followed by the eGeMAPS ones (a soft vote of a model of each
    reads them; see :class:`emotion_core.training.speech.loco.Arm`)."""
    return np.concatenate([compare_functionals(samples), egemaps_functionals(samples)])


@functools.cache
def _compare_extractor(feature_set: str = "ComParE_2016"):
    """The extractor is a recipe: every call builds its own native openSMILE instance, so threads can share it."""
    import opensmile

    return opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, feature_set),
                           feature_level=opensmile.FeatureLevel.Functionals)


def segment_samples(audio: Audio, segment: Segment) -> np.ndarray:
    return audio.samples[int(segment.start_s * SAMPLE_RATE):int(segment.end_s * SAMPLE_RATE)]


def _in_parallel(function: Callable, items: Sequence) -> list:
    """``function`` over ``items``, one thread a core (or as many as an analysis may use): feature extraction runs
    in native code that releases the GIL, and it is most of the time."""
    with ThreadPoolExecutor(max_workers=max(1, min(len(items), analysis_threads()))) as pool:
        return list(pool.map(function, items))


@dataclass(frozen=True)
class SpeakerProfile:
    """How one speaker sounds on average: the mean ComParE functionals ``(6373,)`` of their voiced segments."""

    mean: np.ndarray
    segments: int

    @classmethod
    def from_functionals(cls, rows: np.ndarray) -> SpeakerProfile:
        """The profile of a speaker's segments' functionals ``(segments, 6373)``."""
        if len(rows) < MIN_CALIBRATION_SEGMENTS:
            raise InvalidInputError(f"speaker calibration: {len(rows)} voiced segment(s) found, at least "
                                    f"{MIN_CALIBRATION_SEGMENTS} are needed (more recordings of the speaker, or "
                                    "longer ones).")
        return cls(mean=np.asarray(rows, np.float32).mean(0), segments=len(rows))


def segment_functionals(audio: Audio) -> np.ndarray:
    """ComParE functionals ``(segments, 6373)`` of each voiced segment of a recording."""
    segments = voiced_segments(audio.samples)
    rows = _in_parallel(lambda segment: compare_functionals(segment_samples(audio, segment)), segments)
    return np.stack(rows) if rows else np.zeros((0, COMPARE_FEATURES), np.float32)


def speaker_profile(recordings: Sequence[Audio]) -> SpeakerProfile:
    """The profile of one speaker from some of their recordings, in any emotion (more is better; see the
    calibrated model's card for UAR by number of recordings)."""
    return SpeakerProfile.from_functionals(np.concatenate([segment_functionals(a) for a in recordings]))


def profile_from_recordings(recordings: Sequence[tuple[AudioSource, str]], *, max_seconds: float
                            ) -> SpeakerProfile:
    """:func:`speaker_profile` of ``(file, name)`` recordings, decoded one at a time within ``max_seconds`` of
    sound in all, so a pile of recordings is refused from its headers before it costs minutes of work.

    Raises
    ------
    InvalidInputError
        A recording that cannot be decoded, recordings longer than ``max_seconds`` together, or too few voiced
        segments.
    """
    advice = f"calibration recordings may last {max_seconds / 60:g} minutes in all (two to four are plenty)."
    decoded: list[Audio] = []
    for source, name in recordings:
        left = max_seconds - sum(a.seconds for a in decoded)
        if left <= 0:
            raise InvalidInputError(f"{name}: the recordings before it fill the budget; {advice}")
        decoded.append(decode_audio(source, name=name, max_seconds=left, advice=advice))
    return speaker_profile(decoded)


NORMALISATIONS = ("none", "centre", "standardise")


def normalise_recording(rows: np.ndarray, mode: str) -> np.ndarray:
    """The features of one recording's segments ``(segments, features)`` minus their own mean (``"centre"``),
    also divided by their own spread (``"standardise"``), or as they are (``"none"``).

    Only the features are read, never a label; a feature that hardly moves within the recording is divided by a
    floor (a thousandth of its magnitude) rather than by almost nothing."""
    if mode not in NORMALISATIONS:
        raise ValueError(f"normalisation: expected one of {NORMALISATIONS}, got {mode!r}")
    rows = np.asarray(rows, np.float32)
    if mode == "none":
        return rows
    out = rows - rows.mean(0)
    if mode == "standardise":
        out /= np.maximum(rows.std(0), 1e-3 * (np.abs(rows).mean(0) + 1e-6))
    return out


def mfcc_model_input(mean: np.ndarray, std: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The CNN's input for a stretch of speech: normalised MFCC frames, padded to at least :data:`MIN_FRAMES`
    (the CNN pools twice) with the training mean (zeros after normalisation)."""
    def model_input(samples: np.ndarray) -> np.ndarray:
        features = (mfcc_features(samples) - mean) / std
        if len(features) < MIN_FRAMES:
            features = np.pad(features, ((0, MIN_FRAMES - len(features)), (0, 0)))
        return features[None]

    return model_input


def functionals_model_input(samples: np.ndarray) -> np.ndarray:
    """The classical model's input: ComParE functionals as a batch of one (the ONNX graph standardises them)."""
    return compare_functionals(samples)[None]


class SpeechPredictor:
    """Emotion in speech, per voiced segment.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        The model input of a segment to probabilities ``(1, 7)`` over the canonical labels (its last output).
    model_id : str
    model_input : callable
        Samples of one segment to the model's input (see :func:`model_input_from_card`).
    speaker_centred : bool
        The model reads features minus the speaker's :class:`SpeakerProfile` (the calibrated model); such a
        predictor classifies only once :meth:`for_speaker` has given it a profile.
    min_segments : int or None
        Set for a self-calibrated model: it reads each segment standardised on the recording's own voiced
        segments (:func:`normalise_recording`) and refuses a recording with fewer than this many.
    self_calibrated : SpeechPredictor or None
        The self-calibrated model that :meth:`for_recording` hands long recordings to.
    """

    modality = "speech"
    labels = EMOTIONS

    def __init__(self, *, session, model_id: str, model_input: Callable[[np.ndarray], np.ndarray],
                 speaker_centred: bool = False, profile: SpeakerProfile | None = None,
                 confidence: Confidence | None = None, min_segments: int | None = None,
                 self_calibrated: SpeechPredictor | None = None):
        self.session = session
        self.model_id = model_id
        self.model_input = model_input
        self.speaker_centred = speaker_centred
        self.profile = profile
        self.confidence = confidence or Confidence()
        self.min_segments = min_segments
        self.self_calibrated = self_calibrated

    @classmethod
    def from_dir(cls, models_dir: str | Path, *, model: str = SPEECH_MODEL) -> SpeechPredictor:
        """The named model; the shipped one (:data:`SPEECH_MODEL`) comes with the self-calibrated model when its
        files are there."""
        from emotion_core.runtime import load_onnx_session

        card = load_card(models_dir, model)
        companion = None
        if model == SPEECH_MODEL and card_path(models_dir, SELF_CALIBRATED_SPEECH_MODEL).is_file():
            companion = cls.from_dir(models_dir, model=SELF_CALIBRATED_SPEECH_MODEL)
        return cls(session=load_onnx_session(Path(models_dir) / f"{model}.onnx"), model_id=card["model_id"],
                   model_input=model_input_from_card(card),
                   speaker_centred=bool(card["input"].get("speaker_centred", False)),
                   confidence=Confidence.from_card(card, models_dir), min_segments=card["input"].get("min_segments"),
                   self_calibrated=companion)

    def for_speaker(self, profile: SpeakerProfile) -> SpeechPredictor:
        """This (calibrated) predictor for one speaker; the session is shared, not copied."""
        if not self.speaker_centred:
            raise InvalidInputError(f"{self.model_id} does not use speaker calibration.")
        calibrated = copy.copy(self)
        calibrated.profile = profile
        return calibrated

    def for_recording(self, audio: Audio) -> SpeechPredictor:
        """The predictor that should judge ``audio``: the self-calibrated model when the recording has enough
        voiced segments to calibrate on itself, else this one."""
        check_audio(audio)
        companion = self.self_calibrated
        if companion is not None and len(voiced_segments(audio.samples)) >= companion.min_segments:
            return companion
        return self

    @property
    def self_calibrating(self) -> bool:
        return self.min_segments is not None

    def _check_profile(self) -> None:
        if self.speaker_centred and self.profile is None:
            raise InvalidInputError(f"{self.model_id} needs a speaker profile: give recordings of the speaker "
                                    "to calibrate on.")

    def classify(self, samples: np.ndarray) -> np.ndarray:
        """Probabilities ``(7,)`` for one stretch of speech (temperature-scaled when the card has one)."""
        return self.judge(samples)[0]

    def judge(self, samples: np.ndarray) -> tuple[np.ndarray, float | None]:
        """Probabilities ``(7,)`` for one stretch of speech, and its features' distance from the training data
        (``None`` without a distance model)."""
        self._check_profile()
        if self.self_calibrating:
            raise InvalidInputError(f"{self.model_id} calibrates on a whole recording; one stretch cannot be judged.")
        (probs, distance), = self._judged(self._calibrated([self.model_input(samples)]))
        return probs, distance

    def _calibrated(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """The segments' model inputs as the model reads them: centred on the speaker, standardised on the
        recording, or as they are."""
        if self.speaker_centred:
            return [x - self.profile.mean for x in inputs]
        if self.self_calibrating:
            return list(normalise_recording(np.concatenate(inputs), "standardise")[:, None])
        return inputs

    def _judged(self, inputs: list[np.ndarray]) -> list[tuple[np.ndarray, float | None]]:
        """Probabilities ``(7,)`` (temperature-scaled when the card has one) and distance of each model input."""
        output = self.session.get_outputs()[-1].name  # scikit-learn graphs put the label first
        judged = []
        for x in inputs:  # one run each: the CNN's inputs differ in length
            (probs,) = self.session.run([output], {self.session.get_inputs()[0].name: x.astype(np.float32)})
            judged.append((self.confidence.scale(probs[0] / probs[0].sum()), self.confidence.distance(x)))
        return judged

    def predict(self, audio: Audio) -> list[EmotionResult]:
        """One result per voiced segment, with its time span; an empty list when there is no voice. A segment
        is marked uncertain when its confidence is low or its voice lies far from the training recordings.

        Raises
        ------
        InvalidInputError
            ``audio`` is not decoded :class:`~emotion_core.speech.audio.Audio`, a calibrated model has no profile
            yet, or a self-calibrated model is given fewer voiced segments than it calibrates on.
        """
        check_audio(audio)
        self._check_profile()
        segments = voiced_segments(audio.samples)
        if not segments:
            return []
        if self.self_calibrating and len(segments) < self.min_segments:
            raise InvalidInputError(f"{self.model_id} calibrates on the recording itself: {len(segments)} voiced "
                                    f"segment(s) found, at least {self.min_segments} are needed.")

        def segment_input(segment: Segment) -> tuple[np.ndarray, float]:
            start = time.perf_counter()
            return self.model_input(segment_samples(audio, segment)), time.perf_counter() - start

        inputs = _in_parallel(segment_input, segments)
        start = time.perf_counter()
        judged = self._judged(self._calibrated([x for x, _ in inputs]))
        judging = (time.perf_counter() - start) / len(segments)
        return [EmotionResult.from_probabilities(
            probs, modality="speech", model_id=self.model_id, span=(segment.start_s, segment.end_s),
            latency_ms=(seconds + judging) * 1000, uncertain=self.confidence.reason(float(probs.max()), distance),
            extra={} if distance is None else {"distance": round(distance, 3)})
            for segment, (_, seconds), (probs, distance) in zip(segments, inputs, judged)]


def model_input_from_card(card: dict) -> Callable[[np.ndarray], np.ndarray]:
    """The feature function that the card's ``input.kind`` names."""
    kind = card["input"]["kind"]
    if kind == "compare_functionals":
        return functionals_model_input
    if kind == "egemaps_functionals":
        return lambda samples: egemaps_functionals(samples)[None]
    if kind == "compare_egemaps_functionals":
        return lambda samples: compare_egemaps_functionals(samples)[None]
    if kind == "mfcc_frames":
        norm = card["input"]["normalisation"]
        return mfcc_model_input(np.asarray(norm["mean"], np.float32), np.asarray(norm["std"], np.float32))
    raise ModelUnavailableError(f"speech model card: unknown input kind {kind!r}.")


def utterance_result(segments: list[EmotionResult], *, model_id: str,
                     confidence: Confidence | None = None) -> EmotionResult | None:
    """The whole recording's emotion: the segments' probabilities averaged, weighted by their duration.

    With ``confidence`` (the predictor's), the recording is uncertain when its averaged confidence is low or its
    segments' duration-weighted distance from the training data is beyond the limit."""
    if not segments:
        return None
    durations = np.array([r.span[1] - r.span[0] for r in segments])
    weights = durations / max(durations.sum(), 1e-9)
    probs = np.array([[r.scores[e] for e in EMOTIONS] for r in segments])
    mean = (probs * weights[:, None]).sum(0)
    distances = [r.extra.get("distance") for r in segments]
    distance = None if None in distances else float(np.dot(weights, distances))
    return EmotionResult.from_probabilities(
        mean, modality="speech", model_id=model_id, span=(segments[0].span[0], segments[-1].span[1]),
        latency_ms=sum(r.latency_ms for r in segments),
        uncertain=confidence.reason(float(mean.max()), distance) if confidence else None,
        extra={} if distance is None else {"distance": round(distance, 3)})


@dataclass(frozen=True)
class Confidence:
    """What the card says about trusting a result: the temperature fitted on leave-one-corpus-out predictions,
    the confidence below which a result is uncertain, and the distance model with its limit."""

    temperature: float = 1.0
    min_confidence: float | None = None
    distances: DistanceModel | None = None
    max_distance: float | None = None

    @classmethod
    def from_card(cls, card: dict, models_dir: str | Path) -> Confidence:
        section = card.get("confidence") or {}
        distance = section.get("distance") or {}
        return cls(temperature=float(section.get("temperature", 1.0)),
                   min_confidence=section.get("min_confidence"),
                   distances=DistanceModel.load(Path(models_dir) / distance["file"]) if distance else None,
                   max_distance=distance.get("limit"))

    def scale(self, probabilities: np.ndarray) -> np.ndarray:
        if self.temperature == 1.0:
            return probabilities
        return apply_temperature(probabilities, self.temperature).astype(np.float32)

    def distance(self, features: np.ndarray) -> float | None:
        return None if self.distances is None else float(self.distances.distance(features)[0])

    def reason(self, confidence: float, distance: float | None) -> str | None:
        return uncertain_reason(confidence, distance, min_confidence=self.min_confidence,
                                max_distance=self.max_distance)
