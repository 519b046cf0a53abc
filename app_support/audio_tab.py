"""The Analyze page's Audio tab: a recording or a video's sound track, segment by segment."""

import json
from pathlib import Path

import streamlit as st

from app_support.display import confidence_words, show_table
from app_support.resources import calibrated_speech_predictor, settings, speech_predictor, store
from app_support.saving import save_once, show_alerts
from app_support.widgets import keep_media_checkbox
from emotion_core.errors import EmotionLensError
from emotion_core.face.video import VIDEO_TYPES
from emotion_core.labels import EMOJI
from emotion_core.speech.analysis import analyze_audio, waveform_envelope
from emotion_core.speech.audio import AUDIO_TYPES
from emotion_core.speech.predictor import SpeechPredictor, profile_from_recordings
from emotion_core.storage.db import User
from emotion_core.storage.history import save_audio
from emotion_core.viz import probability_bars, segment_timeline, spectrogram, waveform


def render(user: User) -> None:
    st.caption("Trained on acted speech in English, German and Italian; the model hears how it is said, not what, "
               "and marks a result uncertain when the voice is unlike its training recordings or its confidence is "
               "low. A recording of a minute or two (20 voiced segments or more) calibrates on itself, which makes "
               "unfamiliar voices far more readable. A video's sound track works too.")
    source = st.radio("Sound from", ["Upload a file", "Microphone"], horizontal=True, key="analyze_audio_source")
    if source == "Upload a file":
        upload = st.file_uploader("Recording", type=[*AUDIO_TYPES, *VIDEO_TYPES], key="analyze_audio_upload")
    else:
        upload = st.audio_input("Record", key="analyze_audio_record")
    keep = keep_media_checkbox("analyze_audio_keep")
    with st.expander("Calibrate to the speaker (optional)"):
        st.caption("Other recordings of the same person, in any emotion: no labels are needed. The calibrated "
                   "model reads how each moment departs from this speaker's own average voice, which helps most "
                   "with 20 or more recordings (the Models page shows its test figures by number of recordings). "
                   "Calibration recordings are used for this analysis only and never stored.")
        calibration = st.file_uploader("Recordings of the same speaker", type=[*AUDIO_TYPES, *VIDEO_TYPES],
                                       accept_multiple_files=True, key="analyze_audio_calibration")
    if upload is None:
        return
    name = getattr(upload, "name", None) or "recording.wav"
    try:
        predictor = _speaker_predictor(calibration) if calibration else speech_predictor()
        analysis = analyze_audio(upload.getvalue(), predictor, name=name, max_seconds=settings().max_audio_seconds)
    except EmotionLensError as exc:
        st.error(str(exc))
        return
    signature = (upload.file_id, *(f.file_id for f in calibration or ()))
    saved = save_once("analyze_audio_saved", signature, lambda: save_audio(
        store(), user, analysis, media=upload.getvalue() if keep else None, media_suffix=Path(name).suffix))
    show_alerts(saved)
    times, low, high = waveform_envelope(analysis.audio)
    st.plotly_chart(waveform(times, low, high, segments=analysis.segments,
                             title=f"{analysis.audio.seconds:.1f} s, voiced segments shaded"),
                    key="analyze_audio_waveform")
    if analysis.overall is None:
        st.warning(f"No emotion given: {analysis.reason}.")
        return
    overall, bars = st.columns([1, 2])
    overall.metric("Whole recording", f"{EMOJI[analysis.overall.label]} {analysis.overall.label}",
                   confidence_words(analysis.overall), delta_color="off")
    calibration = analysis.calibration or {}
    calibrated = (f" Calibrated to the speaker on {calibration['profile_segments']} segments."
                  if "profile_segments" in calibration else
                  f" Calibrated on this recording itself ({calibration['recording_segments']} voiced segments): long "
                  "recordings need no enrolment." if "recording_segments" in calibration else "")
    overall.caption(f"{len(analysis.segments)} voiced segment(s); the segments' probabilities averaged by "
                    f"duration.{calibrated}")
    if analysis.overall.uncertain:
        overall.warning(f"Uncertain: {analysis.overall.uncertain}.")
    doubtful = sum(r.uncertain is not None for r in analysis.segments)
    if doubtful:
        st.caption(f"{doubtful} of {len(analysis.segments)} segment(s) uncertain: see the table's uncertain column.")
    bars.plotly_chart(probability_bars(analysis.overall.scores), key="analyze_audio_bars")
    table = analysis.segment_table()
    st.plotly_chart(segment_timeline(table, title="Each segment"), key="analyze_audio_segments")
    with st.expander("Spectrogram"):
        st.plotly_chart(spectrogram(analysis.audio.samples), key="analyze_audio_spectrogram")
    show_table(table)
    stem = Path(name).stem
    csv_col, json_col = st.columns(2)
    csv_col.download_button("Segments (CSV)", table.to_csv(index=False), file_name=f"{stem}-speech.csv",
                            mime="text/csv")
    json_col.download_button("Result (JSON)", json.dumps(analysis.to_dict(), indent=2),
                             file_name=f"{stem}-speech.json", mime="application/json")


def _speaker_predictor(recordings) -> SpeechPredictor:
    """The calibrated model with this speaker's profile, built once per set of uploads (kept in this browser
    session only: a profile describes a person's voice)."""
    signature = tuple(f.file_id for f in recordings)
    cached = st.session_state.get("analyze_audio_profile")
    if cached is None or cached[0] != signature:
        with st.spinner(f"Calibrating on {len(recordings)} recording(s)…"):
            profile = profile_from_recordings([(f.getvalue(), f.name) for f in recordings],
                                              max_seconds=settings().max_calibration_seconds)
        cached = st.session_state["analyze_audio_profile"] = (signature, profile)
    return calibrated_speech_predictor().for_speaker(cached[1])
