"""Streamlit-side helpers shared by the pages (caching of core objects, the Analyze tabs).

Streamlit runs a page file directly, without ``streamlit_app.py`` and its ``st.navigation``, when the first
request after start-up is a deep link (``/models``) and the app has a folder named ``pages/``: its flag for the
old folder-based navigation is still set. Every page imports this package, so clearing the flag here and
rerunning puts that first visitor on the real navigation too.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

if PagesManager.uses_pages_directory:
    PagesManager.uses_pages_directory = False
    st.rerun()
