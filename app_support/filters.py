"""The filters History and Analytics share: dates, kind of analysis, and (for admins) whose analyses."""

from datetime import datetime, time, timezone
from typing import Any

import streamlit as st

from app_support.resources import accounts
from emotion_core.permissions import sees_everything
from emotion_core.storage.db import User
from emotion_core.storage.store import ANALYSIS_KINDS

ANY = "(any)"


def analysis_filters(user: User, *, prefix: str) -> dict[str, Any]:
    """Filter widgets (keys ``{prefix}_…``) in the current container; the keyword arguments for
    :meth:`HistoryStore.analyses` they stand for."""
    owner_col, kind_col, dates_col = st.columns(3)
    owner = (owner_col.selectbox("User", [ANY, *(u.name for u in accounts().users())], key=f"{prefix}_owner")
             if sees_everything(user) else ANY)
    kind = kind_col.selectbox("Kind", [ANY, *ANALYSIS_KINDS], key=f"{prefix}_kind")
    dates = dates_col.date_input("Between", value=(), key=f"{prefix}_dates")
    return {"owner": None if owner == ANY else owner, "kind": None if kind == ANY else kind,
            "since": datetime.combine(dates[0], time.min, timezone.utc) if len(dates) > 0 else None,
            "until": datetime.combine(dates[-1], time.max, timezone.utc) if len(dates) > 1 else None}
