"""History: every stored analysis you may see; open one, compare two, download."""

import json

import streamlit as st

from app_support import auth
from app_support.display import show_fields, show_table
from app_support.filters import ANY, analysis_filters
from app_support.resources import store
from emotion_core.analytics import analyses_table, rows_table, transcript_table
from emotion_core.errors import EmotionLensError
from emotion_core.labels import EMOTIONS
from emotion_core.permissions import allowed, owns, sees_everything
from emotion_core.viz import emotion_timeline, share_bars

user = auth.require("view")


def _set_shared(analysis_id: int) -> None:
    shared = st.session_state[f"history_shared_{analysis_id}"]
    store().set_shared(analysis_id, user, shared=shared)
    st.toast(f"Analysis #{analysis_id} is {'shared with everyone' if shared else 'no longer shared'}.", icon="✅")


st.title("🗂️ History")
st.caption("Analyses you ran, and those others shared" + (" (as admin you see everyone's)." if sees_everything(user)
                                                          else "."))

with st.expander("Filters", expanded=True):
    filters = analysis_filters(user, prefix="history")
    label = st.selectbox("Dominant emotion", [ANY, *EMOTIONS], key="history_label")
analyses = store().analyses(user, label=None if label == ANY else label, **filters)
table = analyses_table(analyses)
show_table(table)
csv_col, json_col, parquet_col = st.columns(3)
csv_col.download_button("Table as CSV", table.to_csv(index=False), file_name="emotion-lens-history.csv",
                        mime="text/csv")
json_col.download_button("Table as JSON", table.to_json(orient="records", date_format="iso"),
                         file_name="emotion-lens-history.json", mime="application/json")
parquet_col.download_button("Table as Parquet", table.to_parquet(index=False),
                            file_name="emotion-lens-history.parquet", mime="application/octet-stream")
if table.empty:
    st.info("Nothing here yet: analyses from the Analyze and Live pages, and from the API, appear here.")
    st.stop()

choices = {f"#{row.id} · {row.kind} · {row.source} · {row.created_at:%Y-%m-%d %H:%M}": row.id
           for row in table.itertuples()}
chosen = st.multiselect("Open one analysis, or two to compare", list(choices), max_selections=2,
                        key="history_open")
columns = st.columns(len(chosen)) if chosen else []
for column, name in zip(columns, chosen):
    with column:
        try:
            analysis = store().analysis(choices[name], user)
        except EmotionLensError as exc:
            st.error(str(exc))
            continue
        rows = rows_table(analysis)
        st.subheader(f"#{analysis.id}: {analysis.source_name}")
        st.caption(f"{analysis.kind} by {analysis.user.name}, {analysis.created_at:%Y-%m-%d %H:%M} UTC · "
                   f"dominant: {analysis.label or '—'} · {len(rows)} rows")
        if owns(user, analysis.user_id):
            st.toggle("Shared with everyone (viewers too)", value=analysis.shared,
                      key=f"history_shared_{analysis.id}", on_change=_set_shared, args=(analysis.id,))
        elif analysis.shared:
            st.caption(f"Shared by {analysis.user.name}.")
        if rows["start_s"].notna().any():
            timeline = rows.rename(columns={"start_s": "time_s", "track": "track_id"})
            st.plotly_chart(emotion_timeline(timeline), key=f"history_timeline_{analysis.id}")
        shares = rows[rows["label"].isin(EMOTIONS)]["label"].value_counts(normalize=True)
        st.plotly_chart(share_bars({e: float(shares.get(e, 0.0)) for e in EMOTIONS}, title="Share of rows"),
                        key=f"history_shares_{analysis.id}")
        for alert in analysis.alerts:
            st.warning(f"🚨 {alert.rule_name}: {alert.detail} ({alert.start_s:.1f}–{alert.end_s:.1f} s)")
        with st.expander("Results"):
            show_table(rows)
        words = transcript_table(analysis)
        if len(words):
            with st.expander("Transcript (kept with the upload)"):
                show_table(words)
        elif (rows["modality"] == "text").any() and analysis.media_file is None:
            st.caption("The words themselves were not kept (the text or file was not): only their emotions are.")
        with st.expander("Settings and summary"):
            st.markdown("###### Settings")
            show_fields(analysis.settings)
            st.markdown("###### Summary")
            show_fields(analysis.summary)
        record = {"id": analysis.id, "kind": analysis.kind, "source": analysis.source_name,
                  "created_at": analysis.created_at.isoformat(), "settings": analysis.settings,
                  "summary": analysis.summary, "rows": json.loads(rows.to_json(orient="records"))}
        st.download_button("Download as JSON", json.dumps(record, indent=2), key=f"history_json_{analysis.id}",
                           file_name=f"analysis-{analysis.id}.json", mime="application/json")
        may_delete = allowed(user, "delete") and owns(user, analysis.user_id)
        if may_delete and st.button("Delete this analysis", key=f"history_delete_{analysis.id}"):
            store().delete_analysis(analysis.id, user)
            st.rerun()
