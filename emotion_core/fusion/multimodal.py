"""A video with speech (and optionally a transcript) analysed in every modality and fused on one time axis."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emotion_core.config import Settings
from emotion_core.errors import EmotionLensError
from emotion_core.face.video import VideoAnalysis, analyze_video
from emotion_core.fusion.windows import FusedWindow, fuse_timeline, timeline_from
from emotion_core.media import check_text
from emotion_core.modalities import FUSED
from emotion_core.result import EmotionResult
from emotion_core.speech.analysis import AudioAnalysis, analyze_audio
from emotion_core.speech.audio import decode_audio
from emotion_core.text.subtitles import Cue, parse_cues


@dataclass
class MultimodalAnalysis:
    source: str
    video: VideoAnalysis
    audio: AudioAnalysis | None
    cues: list[tuple[Cue, EmotionResult]]
    windows: list[FusedWindow]
    weights: dict[str, float]
    method: str
    window_s: float
    missing: dict[str, str] = field(default_factory=dict)  # modality -> why it is absent
    notes: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.video.frames_read / self.video.fps if self.video.fps else 0.0

    def window_table(self):
        import pandas as pd

        return pd.DataFrame([w.to_row() for w in self.windows])

    def to_dict(self, *, with_text: bool = True) -> dict[str, Any]:
        """The JSON of ``analyze --multimodal`` and of the API; ``with_text=False`` leaves out the words of the
        transcript cues (a stored API result holds them only when the user keeps the upload)."""
        return {
            "source": self.source, "modality": FUSED, "duration_s": round(self.duration_s, 3),
            "method": self.method, "window_s": self.window_s, "weights": self.weights,
            "missing": self.missing, "notes": self.notes,
            "face": {"frames_analysed": self.video.frames_analysed,
                     "tracks": self.video.track_summary().round(4).to_dict(orient="records")},
            "speech": self.audio.to_dict() if self.audio else None,
            "text": [{"start_s": c.start_s, "end_s": c.end_s, **({"text": c.text} if with_text else {}),
                      "result": r.to_dict()} for c, r in self.cues],
            "windows": self.window_table().round(4).to_dict(orient="records"),
        }


def _timed(text: str, name: str) -> bool:
    return name.lower().endswith((".srt", ".vtt")) or "-->" in text


def check_transcript(transcript: str | bytes | None, *, name: str) -> str | None:
    """The transcript as text (``None`` when there is none), refused now if it is not UTF-8 text or its timed
    cues do not parse, so that a bad transcript fails before a long analysis starts."""
    if transcript is None or not transcript.strip():
        return None
    text = check_text(transcript, name=name)
    if _timed(text, name):
        parse_cues(text, name=name)
    return text


def _transcript_cues(transcript: str | bytes | None, name: str, duration_s: float,
                     notes: list[str]) -> list[Cue]:
    text = check_transcript(transcript, name=name)
    if text is None:
        return []
    if _timed(text, name):
        return parse_cues(text, name=name)
    notes.append("The transcript has no times, so its emotion counts for the whole clip.")
    return [Cue(0.0, max(duration_s, 1e-3), text)]


def analyze_multimodal(video: bytes, *, face, speech, text, name: str = "video",
                       transcript: str | bytes | None = None, transcript_name: str = "transcript.txt",
                       weights: Mapping[str, float], method: str = "weighted", window_s: float = 1.0,
                       max_bytes: int = Settings.max_upload_bytes, max_seconds: float = Settings.max_audio_seconds,
                       progress: Callable[[float, str], None] | None = None) -> MultimodalAnalysis:
    """Faces frame by frame, speech segment by segment, text cue by cue, then late fusion per window.

    A modality that is missing — no face in a window, no sound track, silence, no transcript — is reported
    under ``missing`` (or simply absent from those windows), never guessed. ``progress(done, stage)`` hears the
    share done and what is being done now (faces, speech, text, fusion).
    """
    def report(done: float, stage: str) -> None:
        if progress is not None:
            progress(done, stage)

    report(0.0, "Faces: reading the video")
    clip = analyze_video(video, face, name=name, max_bytes=max_bytes, annotate=False,
                         progress=lambda done: report(0.8 * done, f"Faces: {done:.0%} of the frames"))
    duration = clip.frames_read / clip.fps if clip.fps else 0.0
    missing: dict[str, str] = {}
    notes: list[str] = []
    if not any(frame.faces for frame in clip.frames):
        missing["face"] = "no face in any frame"
    audio = None
    report(0.8, "Speech: finding and classifying the speech segments")
    try:
        audio = analyze_audio(decode_audio(video, name=name, max_seconds=max_seconds), speech)
        if audio.overall is None:
            missing["speech"] = audio.reason or "no speech"
    except EmotionLensError as exc:
        missing["speech"] = str(exc)
    report(0.9, "Text: reading the transcript")
    cues = _transcript_cues(transcript, transcript_name, duration, notes)
    if not cues:
        missing["text"] = "no transcript given"
    cue_results = list(zip(cues, text.predict([c.text for c in cues]))) if cues else []
    report(0.95, "Fusion: putting the modalities on one time axis")
    timeline = timeline_from(clip.frames, audio.segments if audio else (),
                             [(c.start_s, c.end_s, r) for c, r in cue_results])
    windows = fuse_timeline(timeline, duration_s=duration, window_s=window_s, weights=weights, method=method)
    report(1.0, "Done")
    return MultimodalAnalysis(source=name, video=clip, audio=audio, cues=cue_results, windows=windows,
                              weights=dict(weights), method=method, window_s=window_s, missing=missing, notes=notes)
