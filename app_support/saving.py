"""Saving each analysis to the history exactly once, and showing the alerts it raised."""

from collections.abc import Callable, Hashable

import streamlit as st

from emotion_core.errors import EmotionLensError
from emotion_core.storage.db import Analysis


def save_once(key: str, signature: Hashable, save: Callable[[], Analysis]) -> Analysis | None:
    """Store an analysis the first time its input (``signature``) is seen; page reruns do not store it again."""
    saved = st.session_state.get(key)
    if saved is not None and saved[0] == signature:
        return saved[1]
    try:
        analysis = save()
    except EmotionLensError as exc:
        st.error(f"The result could not be saved to the history: {exc}")
        return None
    st.session_state[key] = (signature, analysis)
    return analysis


def show_alerts(analysis: Analysis | None) -> None:
    """A banner for every alert rule this analysis set off."""
    for alert in analysis.alerts if analysis is not None else []:
        st.error(f"🚨 **Alert — {alert.rule_name}**: {alert.detail}, from {alert.start_s:.1f} s to "
                 f"{alert.end_s:.1f} s. It is listed on the Alerts page.")
