"""Sign-in, the first-run page that creates the admin, and the role check every page makes.

The session keeps only the user's id; the user is read again on every run, so a changed role, a disabled or a
deleted account takes effect at once.
"""

from collections.abc import Callable

import streamlit as st

from app_support.resources import accounts, settings
from emotion_core.db import User
from emotion_core.errors import EmotionLensError
from emotion_core.permissions import allowed

SESSION_KEY = "auth_user_id"


def signed_in_user() -> User | None:
    user_id = st.session_state.get(SESSION_KEY)
    user = accounts().get(user_id) if user_id is not None else None
    if user is None or user.disabled:
        st.session_state.pop(SESSION_KEY, None)
        return None
    return user


def client_address() -> str:
    """The browser's address, which the sign-in back-off counts failures by. Streamlit reports it from the
    connection, and not at all for a browser on this computer, hence ``localhost``."""
    return st.context.ip_address or "localhost"


def require(permission: str) -> User:
    """The signed-in user, if their role allows ``permission``; otherwise a message, and the page stops."""
    user = signed_in_user()
    if not allowed(user, permission):
        st.error("Your role does not allow this page." if user else "Sign in first.")
        st.stop()
    return user


def sign_in_page() -> None:
    st.title("🎭 Emotion Lens")
    st.subheader("Sign in")
    with st.form("auth_sign_in"):
        name = st.text_input("Name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            user = accounts().authenticate(name, password, source=client_address())
        except EmotionLensError as exc:
            st.error(f"Cannot sign in: {exc}")
            return
        st.session_state[SESSION_KEY] = user.id
        st.rerun()
    if settings().open_registration:
        _registration_form()
    else:
        st.caption("No account yet? Ask an admin to create one (Admin page, or `python -m emotion_core users add`).")


def _registration_form() -> None:
    """Self-registration (``EMOTION_LENS_OPEN_REGISTRATION=1``): a viewer account, which an admin may promote."""
    with st.expander("No account yet? Register"):
        _new_account_form("auth_register", prefix="New ", button="Create my account",
                          create=accounts().register)


def first_run_page() -> None:
    st.title("🎭 Welcome to Emotion Lens")
    st.markdown("No account exists yet. Create the **admin** account: it manages users and alert rules. "
                "Everything is stored on this computer (`EMOTION_LENS_HOME`).")
    _new_account_form("auth_first_run", prefix="Admin ", button="Create the admin account",
                      create=lambda name, password: accounts().create_user(name, password, "admin"))


def _new_account_form(key: str, *, prefix: str, button: str, create: Callable[[str, str], User]) -> None:
    """Name, password twice; ``create(name, password)`` makes the account, which is then signed in."""
    with st.form(key):
        name = st.text_input(f"{prefix}name")
        password = st.text_input("Password (10 characters or more)", type="password")
        repeated = st.text_input("Password again", type="password")
        submitted = st.form_submit_button(button, type="primary")
    if not submitted:
        return
    if password != repeated:
        st.error("The two passwords differ.")
        return
    try:
        user = create(name, password)
    except EmotionLensError as exc:
        st.error(f"Cannot create the account: {exc}")
        return
    st.session_state[SESSION_KEY] = user.id
    st.rerun()


def sidebar(user: User) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{user.name}** ({user.role})")
        if st.button("Sign out", key="auth_sign_out"):
            st.session_state.pop(SESSION_KEY, None)
            st.rerun()
