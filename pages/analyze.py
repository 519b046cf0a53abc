"""Analyze: upload or capture media and see what each model says about it."""

import streamlit as st

from app_support import image_tab, video_tab

st.title("🔍 Analyze")
st.caption("Everything runs on this computer; uploads are analysed in memory and not stored.")

image, video = st.tabs(["🖼️ Image", "🎬 Video"])
with image:
    image_tab.render()
with video:
    video_tab.render()
