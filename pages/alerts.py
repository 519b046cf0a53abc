"""Alerts: rules that fired on analyses, to acknowledge."""

import streamlit as st

from app_support import auth
from app_support.display import show_table
from app_support.resources import store
from emotion_core.analytics import alerts_table
from emotion_core.permissions import allowed

user = auth.require("view")
st.title("🚨 Alerts")
st.caption("A rule fires when an analysis meets it (see the rules on the Admin page). Acknowledging records who "
           "looked at it; the alert stays in the history.")
only_open = st.toggle("Only alerts nobody acknowledged", value=True, key="alerts_open_only")
alerts = store().alerts(user, unacknowledged_only=only_open)
if not alerts:
    st.success("No alerts." if only_open else "No alert has fired yet.")
    st.stop()
show_table(alerts_table(alerts))
if allowed(user, "acknowledge"):
    pending = [a for a in alerts if a.acknowledged_at is None]
    for alert in pending:
        text, button = st.columns([5, 1])
        text.markdown(f"**{alert.rule_name}** on #{alert.analysis_id} ({alert.analysis.source_name}): {alert.detail}")
        if button.button("Acknowledge", key=f"alerts_ack_{alert.id}"):
            store().acknowledge_alert(alert.id, user)
            st.rerun()
