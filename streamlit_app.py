"""Emotion Lens: the Streamlit entry point. It only sets the page up and routes to the pages."""

import streamlit as st

st.set_page_config(page_title="Emotion Lens", page_icon="🎭", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/live.py", title="Live webcam", icon="🎥", url_path="live"),
    st.Page("pages/analyze.py", title="Analyze", icon="🔍", url_path="analyze"),
    st.Page("pages/models.py", title="Models", icon="📊", url_path="models"),
]
st.navigation(pages).run()
