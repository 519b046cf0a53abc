"""Emotion Lens: the Streamlit entry point. It sets the page up, signs the user in and routes by role."""

import streamlit as st

from app_support import auth
from app_support.resources import accounts
from emotion_core.permissions import allowed

st.set_page_config(page_title="Emotion Lens", page_icon="🎭", layout="wide")

user = auth.signed_in_user()
if accounts().count() == 0:
    pages = [st.Page(auth.first_run_page, title="Create the admin", icon="🔑", url_path="welcome")]
elif user is None:
    pages = [st.Page(auth.sign_in_page, title="Sign in", icon="🔑", url_path="sign-in")]
else:
    auth.sidebar(user)
    analyse = allowed(user, "analyze")
    pages = [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        *([st.Page("pages/live.py", title="Live webcam", icon="🎥", url_path="live"),
           st.Page("pages/analyze.py", title="Analyze", icon="🔍", url_path="analyze"),
           st.Page("pages/multimodal.py", title="Multimodal", icon="🧩", url_path="multimodal")] if analyse else []),
        st.Page("pages/history.py", title="History", icon="🗂️", url_path="history"),
        st.Page("pages/analytics.py", title="Analytics", icon="📈", url_path="analytics"),
        st.Page("pages/alerts.py", title="Alerts", icon="🚨", url_path="alerts"),
        st.Page("pages/models.py", title="Models", icon="📊", url_path="models"),
        st.Page("pages/account.py", title="Account", icon="👤", url_path="account"),
        *([st.Page("pages/admin.py", title="Admin", icon="🛠️", url_path="admin")]
          if allowed(user, "manage_users") else []),
    ]
st.navigation(pages).run()
