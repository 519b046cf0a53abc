"""Sign-in, sign-out, the first-run page that creates the admin, and the role check every page makes.

Signing in starts a server-side session (see :meth:`Accounts.start_session`). This tab keeps its token in
``st.session_state``, and the browser keeps it in a cookie, so that a reload or a deep link, which start a new
Streamlit session, find it again (``st.context.cookies``). Streamlit can read cookies but not send one with its
responses, so the page writes the cookie from the browser (``SameSite=Strict``, ``Secure`` over HTTPS); a script
can read it, hence no ``HttpOnly``: the session behind it ends on sign-out, on expiry, and when the account is
disabled. The user is read again on every run, so a changed role or a disabled or deleted account takes effect
at once.
"""

import json
from collections.abc import Callable

import streamlit as st

from app_support.resources import accounts, settings
from app_support.widgets import new_password_inputs, passwords_match
from emotion_core.accounts import SESSION_LIFETIME
from emotion_core.errors import EmotionLensError
from emotion_core.permissions import allowed
from emotion_core.storage.db import User

SESSION_KEY = "auth_session"  # this tab's session token
COOKIE = "emotion_lens_session"  # the browser's copy of it
_COOKIE_KEY = "auth_cookie"  # the cookie to write on the next run: a token, or "" to clear it


def session_token() -> str | None:
    """The session token of this tab, or else of the browser (its cookie)."""
    return st.session_state.get(SESSION_KEY) or st.context.cookies.get(COOKIE)


def signed_in_user() -> User | None:
    """The signed-in user, freshly read; None when signed out, or the session has ended or expired, or the
    account is disabled."""
    _write_pending_cookie()
    token = session_token()
    user = accounts().user_for_session(token) if token else None
    if user is None:
        st.session_state.pop(SESSION_KEY, None)
    return user


def _sign_in(user: User) -> None:
    token = accounts().start_session(user)
    st.session_state[SESSION_KEY] = st.session_state[_COOKIE_KEY] = token
    st.rerun()


def _sign_out() -> None:
    token = session_token()
    if token:
        accounts().end_session(token)
    st.session_state.pop(SESSION_KEY, None)
    st.session_state[_COOKIE_KEY] = ""


def _write_pending_cookie() -> None:
    """Set or clear the browser's cookie, once, after a sign-in or a sign-out."""
    slot = st.empty()  # in the same place on every run, so that the elements after it keep their state
    token = st.session_state.pop(_COOKIE_KEY, None)
    if token is None:
        return
    max_age = int(SESSION_LIFETIME.total_seconds()) if token else 0
    cookie = json.dumps(f"{COOKIE}={token}; Max-Age={max_age}; Path=/; SameSite=Strict")
    slot.html(f"<script>document.cookie = {cookie} + (location.protocol === 'https:' ? '; Secure' : '');</script>",
              unsafe_allow_javascript=True)


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
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            user = accounts().authenticate(name, password, source=client_address())
        except EmotionLensError as exc:
            st.error(f"Cannot sign in: {exc}")
            return
        _sign_in(user)
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
        password, repeated = new_password_inputs()
        submitted = st.form_submit_button(button, type="primary")
    if not submitted or not passwords_match(password, repeated):
        return
    try:
        user = create(name, password)
    except EmotionLensError as exc:
        st.error(f"Cannot create the account: {exc}")
        return
    _sign_in(user)


def sidebar(user: User) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{user.name}** ({user.role})")
        st.button("Sign out", key="auth_sign_out", on_click=_sign_out)
