"""The Analyze page's Video tab: faces tracked through a video file, with a timeline and exports."""

import json
from pathlib import Path

import streamlit as st

from app_support.display import show_table
from app_support.resources import face_predictor, settings, store
from app_support.saving import save_once, show_alerts
from app_support.widgets import face_model_choice, keep_media_checkbox
from emotion_core.errors import EmotionLensError
from emotion_core.face.detection import available_detectors
from emotion_core.face.stream import emotion_shares
from emotion_core.face.video import VIDEO_TYPES, analyze_video
from emotion_core.storage.db import User
from emotion_core.storage.history import save_video
from emotion_core.viz import emotion_timeline, share_bars


def render(user: User) -> None:
    video = st.file_uploader("Video with faces", type=list(VIDEO_TYPES), key="analyze_video_upload")
    with st.expander("Options"):
        stride = st.number_input("Analyse every n-th frame", 1, 30, 1, key="analyze_video_stride",
                                 help="1 analyses every frame; frames in between keep the last result.")
        smoothing = st.slider("Smoothing", 0.0, 0.9, 0.6, 0.1, key="analyze_video_smoothing",
                              help="Weight of the past in each face's moving average of probabilities.")
        video_detector = st.selectbox("Face detector", available_detectors(), key="analyze_video_detector")
        model = face_model_choice("analyze_video_model")
    keep = keep_media_checkbox("analyze_video_keep")
    if video is not None and st.button("Analyse video", type="primary", key="analyze_video_start"):
        st.session_state.pop("analyze_video_result", None)
        st.session_state["analyze_video_running"] = video.name
        bar = st.progress(0.0, text="Analysing…")
        # Any click reruns the page, which interrupts the analysis at its next progress update.
        cancel = st.empty()
        cancel.button("Cancel", key="analyze_video_cancel")
        try:
            result = analyze_video(
                video.getvalue(), face_predictor(video_detector, model), name=video.name, stride=int(stride),
                smoothing=smoothing, max_bytes=settings().max_upload_bytes,
                progress=lambda done: bar.progress(done, text=f"Analysing… {done:.0%}"),
            )
            st.session_state["analyze_video_result"] = result
            st.session_state["analyze_video_saved"] = save_once(
                "analyze_video_saved_once", (video.file_id, video_detector, model, int(stride), smoothing),
                lambda: save_video(store(), user, result, media=video.getvalue() if keep else None,
                                   settings={"detector": video_detector, "face_model": model,
                                             "stride": int(stride), "smoothing": smoothing}))
        except EmotionLensError as exc:
            st.error(str(exc))
        st.session_state.pop("analyze_video_running", None)  # not reached when a rerun interrupts
        bar.empty()
        cancel.empty()
    elif st.session_state.pop("analyze_video_running", None):
        st.info("The analysis was cancelled.")

    result = st.session_state.get("analyze_video_result")
    if result is None:
        return
    show_alerts(st.session_state.get("analyze_video_saved"))
    table = result.table()
    tracks = result.track_summary()
    for warning in result.warnings:
        st.warning(warning)
    frames, seconds, faces = st.columns(3)
    frames.metric("Frames analysed", f"{result.frames_analysed:,} of {result.frames_read:,}")
    seconds.metric("Duration", f"{result.frames_read / result.fps:.1f} s")
    faces.metric("Face tracks", len(tracks))
    clip, summary = st.columns([3, 2])
    if result.annotated_mp4:
        clip.video(result.annotated_mp4)
    summary.plotly_chart(share_bars(emotion_shares(table), title="Share of time per emotion"),
                         key="analyze_video_shares")
    st.plotly_chart(emotion_timeline(table, title="Emotions over time (first face)"),
                    key="analyze_video_timeline")
    st.markdown("**Face tracks**")
    show_table(tracks)
    with st.expander("Every frame"):
        show_table(table)
    stem = Path(result.source).stem
    csv_col, json_col, parquet_col, mp4_col = st.columns(4)
    csv_col.download_button("CSV", table.to_csv(index=False), file_name=f"{stem}-emotions.csv", mime="text/csv")
    json_col.download_button("JSON", json.dumps(result.to_dict(), indent=2, default=str),
                             file_name=f"{stem}-emotions.json", mime="application/json")
    parquet_col.download_button("Parquet", table.to_parquet(index=False), file_name=f"{stem}-emotions.parquet",
                                mime="application/octet-stream")
    if result.annotated_mp4:
        mp4_col.download_button("Annotated video", result.annotated_mp4, file_name=f"{stem}-annotated.mp4",
                                mime="video/mp4")
