"""Streamlit-side helpers shared by the pages (caching of core objects, small widgets)."""
