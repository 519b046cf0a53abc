"""A recording analysed as the Audio tab, the API and the CLI show it: voiced segments with their emotions on a
timeline, and the whole recording's emotion."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from emotion_core.config import Settings
from emotion_core.result import EmotionResult, score_columns
from emotion_core.speech.audio import SAMPLE_RATE, Audio, decode_audio
from emotion_core.speech.predictor import SpeechPredictor, utterance_result

MIN_VOICE_SECONDS = 0.5


@dataclass
class AudioAnalysis:
    audio: Audio
    segments: list[EmotionResult]
    overall: EmotionResult | None
    reason: str | None = None
    calibration: dict[str, int] | None = None  # {"profile_segments": n} calibrated to the speaker by enrolment,
    # {"recording_segments": n} calibrated on the recording itself

    def segment_table(self):
        import pandas as pd

        return pd.DataFrame([{"segment": i + 1, "start_s": r.span[0], "end_s": r.span[1], "label": r.label,
                              "confidence": round(r.confidence, 4), "uncertain": r.uncertain or "",
                              **score_columns({e: round(p, 4) for e, p in r.scores.items()})}
                             for i, r in enumerate(self.segments)])

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source": self.audio.source, "modality": "speech",
                                "duration_s": round(self.audio.seconds, 3),
                                "overall": self.overall.to_dict() if self.overall else None,
                                "segments": [r.to_dict() for r in self.segments]}
        if self.reason:
            data["reason"] = self.reason
        if self.calibration:
            data["calibration"] = dict(self.calibration)
        return data


def analyze_audio(source: str | Path | bytes | BinaryIO | Audio, predictor: SpeechPredictor, *, name: str = "audio",
                  max_seconds: float = Settings.max_audio_seconds) -> AudioAnalysis:
    """Decode (any audio format, or a video's sound track), find the voice, classify each segment.

    Silence, or less than :data:`MIN_VOICE_SECONDS` of voice, is an answer too: no segments and a reason,
    never a guess.
    """
    audio = source if isinstance(source, Audio) else decode_audio(source, name=name, max_seconds=max_seconds)
    predictor = predictor.for_recording(audio)
    segments = predictor.predict(audio)
    calibration = {"profile_segments": predictor.profile.segments} if predictor.profile else None
    voiced = sum(r.span[1] - r.span[0] for r in segments)
    if not segments or voiced < MIN_VOICE_SECONDS:
        level = float(np.sqrt(np.mean(audio.samples ** 2))) if len(audio.samples) else 0.0
        why = "silence" if level < 1e-3 else f"only {voiced:.1f} s of voice" if segments else "no voice found"
        return AudioAnalysis(audio=audio, segments=[], overall=None,
                             reason=f"{why}: at least {MIN_VOICE_SECONDS} s of speech is needed to judge",
                             calibration=calibration)
    if predictor.self_calibrating:
        calibration = {"recording_segments": len(segments)}
    return AudioAnalysis(audio=audio, segments=segments,
                         overall=utterance_result(segments, model_id=predictor.model_id,
                                                  confidence=predictor.confidence),
                         calibration=calibration)


def waveform_envelope(audio: Audio, *, points: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times, minimum and maximum of the waveform in ``points`` bins, for a light plot of long recordings."""
    samples = audio.samples
    bins = max(1, len(samples) // points)
    usable = samples[: len(samples) // bins * bins].reshape(-1, bins)
    times = (np.arange(len(usable)) * bins + bins / 2) / SAMPLE_RATE
    return times, usable.min(axis=1), usable.max(axis=1)
