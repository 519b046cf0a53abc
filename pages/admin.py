"""Admin: users, their roles and whether they are disabled, and the alert rules."""

import pandas as pd
import streamlit as st

from app_support import auth
from app_support.resources import accounts, store
from emotion_core.alerts import MAX_GAP_S, NEGATIVE, RULE_KINDS, Rule
from emotion_core.errors import EmotionLensError
from emotion_core.labels import EMOTIONS
from emotion_core.permissions import ROLES

user = auth.require("manage_users")
st.title("🛠️ Admin")

st.subheader("Users")
st.dataframe(pd.DataFrame([{"name": u.name, "role": u.role, "disabled": u.disabled, "created": u.created_at,
                            "failed sign-ins": u.failed_logins} for u in accounts().users()]),
             hide_index=True, width="stretch")
add, change = st.columns(2)
with add, st.form("admin_add_user", clear_on_submit=True):
    st.markdown("**Add a user**")
    name = st.text_input("Name")
    password = st.text_input("Password (10 characters or more)", type="password")
    role = st.selectbox("Role", ROLES, index=1)
    if st.form_submit_button("Add"):
        try:
            accounts().create_user(name, password, role, by=user)
            st.rerun()
        except EmotionLensError as exc:
            st.error(str(exc))
with change, st.form("admin_change_user"):
    st.markdown("**Change, disable or remove a user**")
    target = st.selectbox("User", [u.name for u in accounts().users()])
    new_role = st.selectbox("New role", ROLES)
    set_role, disable, enable, remove = st.columns([1, 1, 1, 2])
    try:
        if set_role.form_submit_button("Set role"):
            accounts().set_role(target, new_role, by=user)
            st.rerun()
        for column, label, disabled in ((disable, "Disable", True), (enable, "Enable", False)):
            if column.form_submit_button(label, help="a disabled user can neither sign in nor use API tokens"):
                accounts().set_disabled(target, disabled, by=user)
                st.rerun()
        if remove.form_submit_button("Delete user and their data"):
            accounts().delete_user(target, by=user)
            st.rerun()
    except EmotionLensError as exc:
        st.error(str(exc))

st.subheader("Alert rules")
st.caption("sustained: the listed emotions together stay above the threshold for at least the duration (live, "
           f"video, audio); a time without a face or voice of up to {MAX_GAP_S:g} s does not break it. multimodal: "
           "in some window of that duration, at least two modalities average above the threshold.")
rules = store().rules()
if rules:
    st.dataframe(pd.DataFrame([{"id": r.id, "name": r.name, "kind": r.kind, "labels": ", ".join(r.labels),
                                "threshold": r.threshold, "seconds": r.min_seconds, "enabled": r.enabled}
                               for r in rules]), hide_index=True, width="stretch")
with st.form("admin_rule"):
    existing = st.selectbox("Rule", ["(new rule)", *(f"{r.id}: {r.name}" for r in rules)])
    name = st.text_input("Name", value="Negative emotion for 5 s")
    kind = st.selectbox("Kind", RULE_KINDS)
    labels = st.multiselect("Emotions", EMOTIONS, default=list(NEGATIVE))
    threshold = st.slider("Threshold", 0.05, 1.0, 0.6, 0.05)
    seconds = st.number_input("Duration or window (s)", 0.0, 3600.0, 5.0)
    enabled = st.checkbox("Enabled", value=True)
    save, delete = st.columns(2)
    rule_id = None if existing == "(new rule)" else int(existing.split(":")[0])
    try:
        if save.form_submit_button("Save rule"):
            store().save_rule(user, Rule(name=name, kind=kind, labels=tuple(labels), threshold=threshold,
                                         min_seconds=seconds, rule_id=rule_id), enabled=enabled)
            st.rerun()
        if rule_id is not None and delete.form_submit_button("Delete rule"):
            store().delete_rule(user, rule_id)
            st.rerun()
    except EmotionLensError as exc:
        st.error(str(exc))
