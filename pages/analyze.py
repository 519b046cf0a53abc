"""Analyze: upload or capture media and see what each model says about it."""

import streamlit as st

from app_support import audio_tab, auth, image_tab, text_tab, video_tab

user = auth.require("analyze")
st.title("🔍 Analyze")
st.caption("Everything runs on this computer. Results go to your history; an uploaded file is kept only if you "
           "tick the box.")

image, video, audio, text = st.tabs(["🖼️ Image", "🎬 Video", "🎙️ Audio", "📝 Text"])
with image:
    image_tab.render(user)
with video:
    video_tab.render(user)
with audio:
    audio_tab.render(user)
with text:
    text_tab.render(user)
