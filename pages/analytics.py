"""Analytics: how many analyses, what they found over time, per kind and per user, and how often alerts fire."""

import plotly.express as px
import streamlit as st

from app_support import auth
from app_support.filters import analysis_filters
from app_support.resources import store
from emotion_core.analytics import (
    alerts_table,
    batch_file_means,
    batch_folders,
    headline,
    label_counts_over_time,
    label_shares_by,
)
from emotion_core.permissions import sees_everything
from emotion_core.viz import outcome_counts, outcome_shares

user = auth.require("view")
st.title("📈 Analytics")
st.caption("Each analysis counts once, under its dominant emotion, or under 'no result' when it found no face, "
           "voice or text to judge." + (" As admin you see everyone's." if sees_everything(user) else ""))
with st.expander("Filters", expanded=True):
    analyses = store().analyses(user, **analysis_filters(user, prefix="analytics"))
    batches = batch_folders(analyses)
    batch = st.selectbox("Imported batch", ["(any)", *batches], key="analytics_batch") if batches else "(any)"
if batch != "(any)":
    analyses = [a for a in analyses if a.summary.get("batch") == batch]
alerts = store().alerts(user)
numbers = headline(analyses, alerts)
total, with_result, most_common, fired = st.columns(4)
total.metric("Analyses", f"{numbers['analyses']:,}")
with_result.metric("With a result", f"{numbers['with_result']:.0%}")
most_common.metric("Most common emotion", numbers["most_common"] or "—")
fired.metric("Alerts raised", f"{numbers['alerts']:,}")
if not analyses:
    st.info("No analyses match these filters.")
    st.stop()

period = st.segmented_control("Period", ["day", "week", "month"], default="day", key="analytics_period")
st.plotly_chart(outcome_counts(label_counts_over_time(analyses, period=period or "day"),
                               title="Analyses and what they found"), key="analytics_over_time")
by_kind, by_user = st.columns(2) if sees_everything(user) else (st.container(), None)
by_kind.plotly_chart(outcome_shares(label_shares_by(analyses, "kind"), "kind", title="Per kind of analysis"),
                     key="analytics_per_kind")
if by_user is not None:
    by_user.plotly_chart(outcome_shares(label_shares_by(analyses, "user"), "user", title="Per user"),
                         key="analytics_per_user")

if batch != "(any)":
    means = batch_file_means(analyses, batch)
    st.plotly_chart(outcome_shares(means.drop(columns=["kind", "label"]), "file",
                                   title="Per file: mean probability of each emotion over its items"),
                    key="analytics_batch_files")

table = alerts_table([a for a in alerts if a.analysis_id in {analysis.id for analysis in analyses}])
if table.empty:
    st.caption("No alerts were raised on these analyses.")
else:
    table["day"] = table["created_at"].dt.strftime("%Y-%m-%d")
    per_day = px.histogram(table, x="day", color="rule", title="Alerts per day").update_xaxes(type="category")
    st.plotly_chart(per_day.update_layout(yaxis_title="alerts", bargap=0.2), key="analytics_alerts")
