"""Emotion Lens: the Streamlit entry point. It sets the page up, signs the user in and routes by role.

Serve it through ``app.py``, which adds the routes that set the session cookie.
"""

import streamlit as st

from app_support import auth
from app_support.resources import accounts
from emotion_core.permissions import allowed

st.set_page_config(page_title="Emotion Lens", page_icon="🎭", layout="wide")

PAGES = [  # file, title, icon, URL path, the permission it needs; the first is the default
    ("pages/home.py", "Home", "🏠", "home", "view"),
    ("pages/live.py", "Live webcam", "🎥", "live", "analyze"),
    ("pages/analyze.py", "Analyze", "🔍", "analyze", "analyze"),
    ("pages/multimodal.py", "Multimodal", "🧩", "multimodal", "analyze"),
    ("pages/history.py", "History", "🗂️", "history", "view"),
    ("pages/analytics.py", "Analytics", "📈", "analytics", "view"),
    ("pages/alerts.py", "Alerts", "🚨", "alerts", "view"),
    ("pages/models.py", "Models", "📊", "models", "view"),
    ("pages/account.py", "Account", "👤", "account", "view"),
    ("pages/admin.py", "Admin", "🛠️", "admin", "manage_users"),
]

user = auth.signed_in_user()
if accounts().count() == 0:
    pages = [st.Page(auth.first_run_page, title="Create the admin", icon="🔑", url_path="welcome")]
elif user is None:  # every page's address shows the sign-in form, which then comes back to that page
    pages = [st.Page(auth.sign_in_page, title="Sign in", icon="🔑", url_path=path, default=path == PAGES[0][3])
             for _file, _title, _icon, path, _permission in PAGES]
else:
    auth.sidebar(user)
    pages = [st.Page(file, title=title, icon=icon, url_path=path, default=path == PAGES[0][3])
             for file, title, icon, path, permission in PAGES if allowed(user, permission)]
st.navigation(pages, position="sidebar" if user else "hidden").run()
