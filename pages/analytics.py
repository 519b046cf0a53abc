"""Analytics: how the emotions in your analyses spread over time, kinds and sources, and how often alerts fire."""

import plotly.express as px
import streamlit as st

from app_support import auth
from app_support.resources import store
from emotion_core.analytics import alerts_table, label_counts_over_time, label_shares_by
from emotion_core.labels import EMOTIONS
from emotion_core.overlay import colour_hex

user = auth.require("view")
st.title("📈 Analytics")
analyses = store().analyses(user)
if not analyses:
    st.info("No analyses to summarise yet.")
    st.stop()

period = st.segmented_control("Period", ["day", "week", "month"], default="day", key="analytics_period")
colours = {label: colour_hex(label) for label in EMOTIONS}
counts = label_counts_over_time(analyses, period=period or "day")
over_time = px.bar(counts, x="period", y="analyses", color="label", color_discrete_map=colours,
                   category_orders={"label": list(EMOTIONS)}, title="Dominant emotion of each analysis")
st.plotly_chart(over_time.update_xaxes(type="category"), key="analytics_over_time")

by_kind, by_source = st.columns(2)
for column, field, title in ((by_kind, "kind", "per kind of analysis"), (by_source, "source", "per source")):
    shares = label_shares_by(analyses, field).melt(id_vars=field, var_name="label", value_name="share")
    column.plotly_chart(px.bar(shares, x="share", y=field, color="label", orientation="h",
                               color_discrete_map=colours, category_orders={"label": list(EMOTIONS)},
                               title=f"Dominant emotions {title}"), key=f"analytics_{field}")

alerts = alerts_table(store().alerts(user))
if alerts.empty:
    st.caption("No alerts have fired.")
else:
    alerts["day"] = alerts["created_at"].dt.date
    st.plotly_chart(px.histogram(alerts, x="day", color="rule", title="Alerts per day"), key="analytics_alerts")
