"""Live webcam: faces boxed and labelled in real time, a live timeline, and a summary when you stop."""

import itertools
import json
import time

import av
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from app_support import auth
from app_support.display import show_table
from app_support.resources import live_predictor, settings, store
from app_support.saving import save_once, show_alerts
from app_support.widgets import face_model_choice
from emotion_core.errors import EmotionLensError
from emotion_core.face.detection import available_detectors
from emotion_core.face.live import LiveAnalyzer
from emotion_core.face.stream import emotion_shares, frames_table, track_summary
from emotion_core.labels import EMOJI
from emotion_core.storage.history import save_live
from emotion_core.viz import emotion_timeline, share_bars

user = auth.require("analyze")
st.title("🎥 Live webcam")
st.caption("Frames are analysed on this computer as they arrive and are never stored; when you stop, the results "
           "(not the video) go to your history. Labels are smoothed over the last few frames of each face, so "
           "they do not flicker.")

st.session_state.setdefault("live_frames", [])
with st.expander("Settings", expanded=False):
    detector = st.selectbox("Face detector", available_detectors(), key="live_detector",
                            help="blazeface finds faces from about 100 px wide. blazeface-short is faster but, at "
                                 "a threshold that keeps empty rooms empty, needs faces of about 130 px: sit close.")
    detect_every = st.slider("Run the detector every n-th frame", 1, 5, 2, key="live_detect_every",
                             help="Faces are tracked in between; every frame is still classified and drawn.")
    smoothing = st.slider("Smoothing", 0.0, 0.9, 0.6, 0.1, key="live_smoothing",
                          help="Weight of the past in each face's moving average of probabilities; 0 shows every "
                               "frame as it is.")
    model = face_model_choice("live_model")

options = (detector, detect_every, smoothing, model)
if st.session_state.get("live_options") != options:
    st.session_state["live_options"] = options
    st.session_state["live_analyzer"] = LiveAnalyzer(predictor=live_predictor(detector, model),
                                                     detect_every=detect_every, smoothing=smoothing)
analyzer: LiveAnalyzer = st.session_state["live_analyzer"]


def on_frame(frame: av.VideoFrame) -> av.VideoFrame:
    """Runs on streamlit-webrtc's worker thread: no st.* calls here."""
    return av.VideoFrame.from_ndarray(analyzer(frame.to_ndarray(format="bgr24")), format="bgr24")


try:
    rtc_configuration = settings().rtc_configuration()
except EmotionLensError as exc:
    st.error(str(exc))
    st.stop()

video_column, chart_column = st.columns([1, 1])
with video_column:
    ctx = webrtc_streamer(
        key="live",
        mode=WebRtcMode.SENDRECV,
        rtc_configuration=rtc_configuration,
        media_stream_constraints={"video": {"width": 640, "height": 480}, "audio": False},
        video_frame_callback=on_frame,
        async_processing=True,
    )
    stats_line = st.empty()
with chart_column:
    chart = st.empty()
message = st.empty()  # one slot, so no stale text from the stopped state lingers while playing


def collect() -> None:
    st.session_state["live_frames"].extend(analyzer.drain())


if ctx.state.playing and not st.session_state.get("live_was_playing"):
    st.session_state["live_frames"] = []  # a new session starts
    st.session_state["live_session"] = st.session_state.get("live_session", 0) + 1
st.session_state["live_was_playing"] = ctx.state.playing

if ctx.state.playing:
    message.empty()
    # Runs until STOP: the component then reruns the script, which ends this loop.
    for tick in itertools.count():
        collect()
        stats = analyzer.stats()
        frames = st.session_state["live_frames"]
        latest = next((frame.faces[-1] for frame in reversed(frames) if frame.faces), None)
        now = f" · now: {EMOJI[latest.label]} {latest.label} {latest.confidence:.0%}" if latest else ""
        stats_line.markdown(f"**{stats.fps:.1f} frames/s** · analysis {stats.latency_ms:.1f} ms a frame · "
                            f"{stats.frames} frames, a face in {stats.frames_with_face}{now}")
        if frames:
            chart.plotly_chart(emotion_timeline(frames_table(frames), window_s=20, title="Last 20 seconds"),
                               key=f"live_timeline_{tick}")
        time.sleep(0.5)
else:
    collect()
    frames = st.session_state["live_frames"]
    if not frames:
        message.info("Press START and allow the camera. The annotated video appears on the left and the emotions over "
                "time on the right; a summary of the session follows when you press STOP.")
    else:
        table = frames_table(frames)
        shares = emotion_shares(table)
        with chart_column:
            st.plotly_chart(emotion_timeline(table, title="The whole session"), key="live_session_timeline")
        st.subheader("Session summary")
        st.plotly_chart(share_bars(shares, title="Share of time per emotion"), key="live_shares")
        show_table(track_summary(table))  # full width: a half column cut the emotions off
        summary = {"duration_s": round(float(table["time_s"].max()), 2), "frames": int(table["frame"].nunique()),
                   "shares": shares, "tracks": track_summary(table).round(4).to_dict(orient="records")}
        show_alerts(save_once("live_saved", st.session_state.get("live_session", 0), lambda: save_live(
            store(), user, frames, summary=summary,
            settings={"detector": detector, "face_model": model, "detect_every": detect_every,
                      "smoothing": smoothing})))
        csv_button, json_button, clear_button = st.columns(3)
        csv_button.download_button("Download frames (CSV)", table.to_csv(index=False),
                                   file_name="emotion-lens-live.csv", mime="text/csv")
        json_button.download_button("Download summary (JSON)", json.dumps(summary, indent=2, default=str),
                                    file_name="emotion-lens-live-summary.json", mime="application/json")
        if clear_button.button("Clear"):
            st.session_state["live_frames"] = []
            st.rerun()
