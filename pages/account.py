"""Account: your password, your API tokens, and all your data to download or delete."""

import json

import streamlit as st

from app_support import auth
from app_support.resources import accounts, store
from app_support.widgets import new_password_inputs, passwords_match
from emotion_core.errors import EmotionLensError

user = auth.require("view")
st.title("👤 Account")
st.markdown(f"**{user.name}**, {user.role}.")

st.subheader("Password")
with st.form("account_password", clear_on_submit=True):
    current = st.text_input("Current password", type="password", autocomplete="current-password")
    new, repeated = new_password_inputs("New password")
    submitted = st.form_submit_button("Change my password")
if submitted and passwords_match(new, repeated):
    try:
        accounts().change_password(user, current=current, new=new, source=auth.client_address(),
                                   keep_session=auth.session_token())
        st.toast("Password changed: your other browsers are signed out.", icon="✅")
    except EmotionLensError as exc:
        st.error(f"The password is unchanged: {exc}")

st.subheader("API tokens")
st.caption("For the JSON API (`Authorization: Bearer <token>`). A new token is shown once: only a digest of it "
           "is stored.")
label = st.text_input("Label for a new token (e.g. the machine that will use it)", key="account_token_label")
if st.button("Create a token", key="account_token_create"):
    st.session_state["account_new_token"] = accounts().create_token(user.name, label=label)
if "account_new_token" in st.session_state:
    st.success("Copy it now; it will not be shown again.")
    st.code(st.session_state.pop("account_new_token"))
for token in accounts().tokens(user):
    text, button = st.columns([5, 1])
    state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else (
        f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used")
    text.markdown(f"`{token.prefix}…` {token.label or ''} · created {token.created_at:%Y-%m-%d} · {state}")
    if token.revoked_at is None and button.button("Revoke", key=f"account_revoke_{token.id}"):
        accounts().revoke_token(token.id, by=user)
        st.rerun()

st.subheader("Your data")
st.download_button("Download everything stored about you (JSON)",
                   json.dumps(store().export_user_data(user), indent=2, default=str),
                   file_name=f"emotion-lens-{user.name}.json", mime="application/json")
with st.form("account_delete"):
    st.markdown("Delete every analysis of yours, with its results, alerts and kept files. This cannot be undone.")
    confirm = st.text_input(f"Type your name ({user.name}) to confirm")
    if st.form_submit_button("Delete all my analyses", type="primary"):
        if confirm.strip() != user.name:
            st.error("The name does not match; nothing was deleted.")
        else:
            st.success(f"Deleted {store().delete_user_data(user)} analyses and their files.")
