"""Multimodal: a video's faces, its speech and a transcript, each on its own and fused on one time axis."""

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from app_support import auth
from app_support.display import show_table
from app_support.resources import face_predictor, model_cards, settings, speech_predictor, store, text_predictor
from app_support.saving import save_once, show_alerts
from app_support.widgets import keep_media_checkbox
from emotion_core.errors import EmotionLensError
from emotion_core.face.video import VIDEO_TYPES
from emotion_core.fusion.multimodal import analyze_multimodal
from emotion_core.fusion.windows import METHODS, default_weights
from emotion_core.modalities import MODALITIES
from emotion_core.result import score_columns
from emotion_core.storage.history import save_multimodal
from emotion_core.viz import contribution_bars, multimodal_timeline

user = auth.require("analyze")
st.title("🧩 Multimodal")
st.caption("Faces, voice and words rarely say the same thing. Each is analysed on its own, then fused per time "
           "window by late fusion (seed 001). There is no labelled multimodal data here, so the fused result's "
           "accuracy has not been measured: read it as a summary of the three, not as a better answer.")

video = st.file_uploader("Video with speech", type=list(VIDEO_TYPES), key="multimodal_video")
transcript_file = st.file_uploader("Transcript (optional): .srt or .vtt with times, or .txt",
                                   type=["srt", "vtt", "txt"], key="multimodal_transcript")
typed = st.text_area("…or type what is said (optional)", key="multimodal_typed", height=80)
measured = default_weights(model_cards())
with st.expander("Fusion settings"):
    method = st.radio("Method", METHODS, horizontal=True, key="multimodal_method",
                      format_func={"weighted": "weighted average", "vote": "majority vote"}.get)
    window_s = st.slider("Window (s)", 0.5, 5.0, 1.0, 0.5, key="multimodal_window")
    st.caption("Default weights are each model's measured reliability on its validation data: "
               + ", ".join(f"{m.name} {measured[m.name]:.2f} ({m.reliability_note})" for m in MODALITIES.values())
               + ". 0 leaves a modality out.")
    columns = st.columns(len(MODALITIES))
    weights = {m: col.number_input(f"{m} weight", 0.0, 1.0, float(measured[m]), 0.05, key=f"multimodal_w_{m}")
               for m, col in zip(MODALITIES, columns)}
keep = keep_media_checkbox("multimodal_keep")

if video is not None and st.button("Analyse", type="primary", key="multimodal_start"):
    transcript = transcript_file.getvalue() if transcript_file is not None else (typed or None)
    bar = st.progress(0.0, text="Starting…")
    try:
        analysis = analyze_multimodal(
            video.getvalue(), face=face_predictor(settings().face_detector), speech=speech_predictor(),
            text=text_predictor(), name=video.name, transcript=transcript,
            transcript_name=transcript_file.name if transcript_file is not None else "typed.txt",
            weights=weights, method=method, window_s=window_s, max_bytes=settings().max_upload_bytes,
            max_seconds=settings().max_audio_seconds, progress=lambda done, stage: bar.progress(done, text=stage))
        st.session_state["multimodal_result"] = analysis
        st.session_state["multimodal_saved"] = save_once(
            "multimodal_saved_once", (video.file_id, hash(str(transcript)), method, window_s, str(weights)),
            lambda: save_multimodal(store(), user, analysis, media=video.getvalue() if keep else None))
    except EmotionLensError as exc:
        st.error(str(exc))
    bar.empty()

analysis = st.session_state.get("multimodal_result")
if analysis is None:
    st.stop()
show_alerts(st.session_state.get("multimodal_saved"))
for modality, why in analysis.missing.items():
    st.info(f"No **{modality}** here: {why}. The fusion uses the other modalities only.")
for note in analysis.notes:
    st.caption(note)

face_rows = analysis.video.table()
speech_table = analysis.audio.segment_table() if analysis.audio and analysis.audio.segments else pd.DataFrame()
cues = pd.DataFrame([{"start_s": c.start_s, "end_s": c.end_s, "text": c.text, "label": r.label,
                      **score_columns(r.scores)} for c, r in analysis.cues])
windows = analysis.window_table()
st.plotly_chart(multimodal_timeline(face_rows, speech_table, cues, windows,
                                    title=f"{analysis.source}: {analysis.method} fusion in {analysis.window_s:g}-s "
                                          "windows"), key="multimodal_timeline")
st.plotly_chart(contribution_bars(windows, title="Each modality's share of the fused decision"),
                key="multimodal_contributions")
clashes = windows[windows["disagreement"]]
st.markdown(f"**Where the modalities disagree**: {len(clashes)} of {len(windows)} windows.")
if len(clashes):
    show_table(clashes[["start_s", "end_s", "face_label", "speech_label", "text_label", "label"]])
if len(cues):
    with st.expander("Transcript cues"):
        show_table(cues[["start_s", "end_s", "text", "label"]])
with st.expander("Every window"):
    show_table(windows)
stem = Path(analysis.source).stem
csv_col, json_col = st.columns(2)
csv_col.download_button("Windows (CSV)", windows.to_csv(index=False), file_name=f"{stem}-fused.csv",
                        mime="text/csv")
json_col.download_button("Everything (JSON)", json.dumps(analysis.to_dict(), indent=2, default=str),
                         file_name=f"{stem}-multimodal.json", mime="application/json")
