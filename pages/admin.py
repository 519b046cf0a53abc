"""Admin: users, their roles, passwords and whether they are disabled, and the alert rules.

Every action runs in its button's callback, before the page is drawn again: the tables show its effect at once,
a toast confirms it, and a form that added something comes back empty.
"""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from app_support import auth
from app_support.resources import accounts, store
from app_support.widgets import new_password_inputs, passwords_match
from emotion_core.alerts import MAX_GAP_S, NEGATIVE, RULE_KINDS, Rule
from emotion_core.errors import EmotionLensError
from emotion_core.labels import EMOTIONS
from emotion_core.permissions import ROLES
from emotion_core.storage.db import AlertRule

user = auth.require("manage_users")
NEW_RULE = 0  # the rule picker's choice for a rule not saved yet
_FRESH_RULE = AlertRule(name="Negative emotion for 5 s", kind=RULE_KINDS[0], labels=list(NEGATIVE), threshold=0.6,
                        min_seconds=5.0, enabled=True)


def _act(action: Callable[[], None], done: str) -> bool:
    """Run an admin action; a toast says it is done, or an error why not. Whether it was done."""
    try:
        action()
    except EmotionLensError as exc:
        st.error(str(exc))
        return False
    st.toast(done, icon="✅")
    return True


def _field(name: str) -> object:
    return st.session_state[f"admin_user_{name}"]


def _add_user() -> None:
    name, password = _field("name").strip(), _field("password")
    _act(lambda: accounts().create_user(name, password, _field("role"), by=user), f"Added {name!r}.")


def _change_user(action: str) -> None:
    target = _field("target")
    changes = {
        "role": (lambda: accounts().set_role(target, _field("new_role"), by=user),
                 f"{target!r} is now {_field('new_role')}."),
        "disable": (lambda: accounts().set_disabled(target, True, by=user), f"Disabled {target!r}: signed out."),
        "enable": (lambda: accounts().set_disabled(target, False, by=user), f"Enabled {target!r}."),
        "delete": (lambda: accounts().delete_user(target, by=user), f"Deleted {target!r} and their data."),
    }
    _act(*changes[action])


def _reset_password() -> None:
    target, password, repeated = _field("reset_target"), _field("reset_password"), _field("reset_repeated")
    if passwords_match(password, repeated):
        _act(lambda: accounts().set_password(target, password, by=user, keep_session=auth.session_token()),
             f"New password set for {target!r}; their browsers are signed out.")


def _rule_key(field: str, pick: int) -> str:
    return f"admin_rule_{field}_{pick}"


def _save_rule(pick: int) -> None:
    def value(field: str):
        return st.session_state[_rule_key(field, pick)]

    rule = Rule(name=value("name"), kind=value("kind"), labels=tuple(value("labels")),
                threshold=value("threshold"), min_seconds=value("seconds"), rule_id=pick or None)

    def save() -> None:
        saved = store().save_rule(user, rule, enabled=value("enabled"))
        st.session_state["admin_rule_pick"] = saved.id  # from now on edited, not added again

    if _act(save, f"Saved the rule {rule.name!r}."):
        _forget_rule_form(NEW_RULE)  # the next new rule's form starts afresh


def _delete_rule(pick: int) -> None:
    if _act(lambda: store().delete_rule(user, pick), "Deleted the rule."):
        _forget_rule_form(pick)
        st.session_state["admin_rule_pick"] = NEW_RULE


def _forget_rule_form(pick: int) -> None:
    for field in ("name", "kind", "labels", "threshold", "seconds", "enabled"):
        st.session_state.pop(_rule_key(field, pick), None)


st.title("🛠️ Admin")
st.subheader("Users")
users = accounts().users()
st.dataframe(pd.DataFrame([{"Name": u.name, "Role": u.role, "Disabled": u.disabled, "Created": u.created_at,
                            "Failed sign-ins": u.failed_logins} for u in users]),
             hide_index=True, width="stretch")
add, change, reset = st.columns(3)
with add, st.form("admin_add_user", clear_on_submit=True):
    st.markdown("**Add a user**")
    st.text_input("Name", key="admin_user_name")
    st.text_input("Password (10 characters or more)", type="password", autocomplete="new-password",
                  key="admin_user_password")
    st.selectbox("Role", ROLES, index=1, key="admin_user_role")
    st.form_submit_button("Add", on_click=_add_user)
with change, st.form("admin_change_user"):
    st.markdown("**Change, disable or remove a user**")
    st.selectbox("User", [u.name for u in users], key="admin_user_target")
    st.selectbox("New role", ROLES, key="admin_user_new_role")
    st.form_submit_button("Set role", on_click=_change_user, args=("role",))
    disable, enable = st.columns(2)
    disable.form_submit_button("Disable", on_click=_change_user, args=("disable",),
                               help="a disabled user can neither sign in nor use API tokens")
    enable.form_submit_button("Enable", on_click=_change_user, args=("enable",))
    st.form_submit_button("Delete user and their data", on_click=_change_user, args=("delete",))
with reset, st.form("admin_reset_password", clear_on_submit=True):
    st.markdown("**Reset a password**")
    st.selectbox("User", [u.name for u in users], key="admin_user_reset_target")
    new_password_inputs("New password", key="admin_user_reset")
    st.form_submit_button("Set the password", on_click=_reset_password)


st.subheader("Alert rules")
st.caption("sustained: the listed emotions together stay above the threshold for at least the duration (live, "
           f"video, audio); a time without a face or voice of up to {MAX_GAP_S:g} s does not break it. multimodal: "
           "in some window of that duration, at least two modalities average above the threshold.")
rules = {r.id: r for r in store().rules()}
if rules:
    st.dataframe(pd.DataFrame([{"Rule": r.name, "Kind": r.kind, "Emotions": ", ".join(r.labels),
                                "Threshold": f"{r.threshold:.0%}", "Seconds": r.min_seconds, "Enabled": r.enabled}
                               for r in rules.values()]), hide_index=True, width="stretch")
if st.session_state.get("admin_rule_pick") not in (NEW_RULE, *rules):
    st.session_state["admin_rule_pick"] = NEW_RULE
pick = st.selectbox("Add a rule, or pick one to edit", [NEW_RULE, *rules], key="admin_rule_pick",
                    format_func=lambda rule_id: rules[rule_id].name if rule_id else "(new rule)")
shown = rules.get(pick, _FRESH_RULE)
with st.form(f"admin_rule_{pick}"):
    st.text_input("Name", value=shown.name, key=_rule_key("name", pick))
    st.selectbox("Kind", RULE_KINDS, index=RULE_KINDS.index(shown.kind), key=_rule_key("kind", pick))
    st.multiselect("Emotions", EMOTIONS, default=list(shown.labels), key=_rule_key("labels", pick))
    st.slider("Threshold", 0.05, 1.0, float(shown.threshold), 0.05, key=_rule_key("threshold", pick))
    st.number_input("Duration or window (s)", 0.0, 3600.0, float(shown.min_seconds), key=_rule_key("seconds", pick))
    st.checkbox("Enabled", value=shown.enabled, key=_rule_key("enabled", pick))
    save, delete = st.columns(2)
    save.form_submit_button("Save rule" if pick == NEW_RULE else "Save changes", type="primary",
                            on_click=_save_rule, args=(pick,))
    if pick != NEW_RULE:
        delete.form_submit_button("Delete rule", on_click=_delete_rule, args=(pick,))
