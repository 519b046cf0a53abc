"""Users, roles, passwords (bcrypt), sign-in back-off, disabled accounts, browser sessions and API tokens (both
stored as SHA-256 digests only)."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select

from emotion_core.errors import AuthenticationFailed, InvalidInputError, NotFound, PermissionDenied
from emotion_core.permissions import ROLES, owns, require
from emotion_core.storage.db import ApiToken, BrowserSession, User, aware, utcnow
from emotion_core.storage.store import HistoryStore
from emotion_core.throttle import Backoff, Throttle, refuse_until

SOURCE_BACKOFF = Backoff(free=5, base=timedelta(seconds=1), cap=timedelta(minutes=15),
                         forget_after=timedelta(hours=1))
"""Wrong passwords or tokens from one address: 5 free, then 1 s doubling to 15 min, so 15 guesses in the first
17 minutes and 4 an hour after that."""
ACCOUNT_BACKOFF = Backoff(free=5, base=timedelta(seconds=1), cap=timedelta(seconds=30),
                          forget_after=timedelta(hours=1))
"""Wrong passwords for one account from anywhere: capped at 30 s, so a stranger delays its owner by 30 s at most
while guesses spread over many addresses stay at two a minute."""
MIN_PASSWORD = 10
TOKEN_PREFIX = "el_"
TOKEN_USE_GRANULARITY = timedelta(minutes=1)
"""A token's ``last_used_at`` is rewritten at most this often, so an API request is not also a database write."""
SESSION_LIFETIME = timedelta(days=7)
"""How long a browser stays signed in without signing in again."""


def hash_password(password: str) -> str:
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


@functools.cache
def _dummy_hash() -> bytes:
    return hash_password("no such user").encode()


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()  # any string: no match, no crash


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInputError(f"password: at least {MIN_PASSWORD} characters.")


def _refuse_disabled(user: User) -> None:
    if user.disabled:
        raise PermissionDenied(f"the account {user.name!r} is disabled: an admin can enable it again.")


class Accounts:
    """User and token management on top of a :class:`HistoryStore`."""

    def __init__(self, store: HistoryStore, *, clock: Callable[[], datetime] = utcnow):
        self.store = store
        self.clock = clock
        self._sign_in_sources = Throttle(SOURCE_BACKOFF, clock=clock)  # wrong passwords per source address
        self._token_sources = Throttle(SOURCE_BACKOFF, clock=clock)  # wrong API tokens per source address

    def count(self) -> int:
        with self.store.session() as session:
            return session.scalar(select(func.count(User.id))) or 0

    def create_user(self, name: str, password: str, role: str, *, by: User | None = None) -> User:
        """Add a user. The very first user needs no ``by`` and must be an admin; later ones need an admin."""
        if self.count() == 0:
            if role != "admin":
                raise InvalidInputError("the first user must be an admin.")
        else:
            require(by, "manage_users")
        return self._add(name, password, role)

    def register(self, name: str, password: str) -> User:
        """Self-registration: a viewer account (an admin may promote it). The admin must exist first."""
        if self.count() == 0:
            raise InvalidInputError("the first user must be an admin.")
        return self._add(name, password, "viewer")

    def _add(self, name: str, password: str, role: str) -> User:
        name = name.strip()
        if role not in ROLES:
            raise InvalidInputError(f"role: expected one of {', '.join(ROLES)}, got {role!r}.")
        if not name or len(name) > 80 or not name.isprintable():
            raise InvalidInputError("name: 1 to 80 printable characters.")
        _check_password(password)
        with self.store.session() as session:
            if session.scalar(select(User).where(User.name == name)):
                raise InvalidInputError(f"name: {name!r} is taken.")
            user = User(name=name, password_hash=hash_password(password), role=role)
            session.add(user)
        return user

    def get(self, user_id: int) -> User | None:
        """The user with this id, freshly read (roles may have changed since sign-in)."""
        with self.store.session() as session:
            return session.get(User, user_id)

    def users(self) -> list[User]:
        with self.store.session() as session:
            return list(session.scalars(select(User).order_by(User.name)))

    def set_role(self, name: str, role: str, *, by: User) -> None:
        require(by, "manage_users")
        if role not in ROLES:
            raise InvalidInputError(f"role: expected one of {', '.join(ROLES)}, got {role!r}.")
        with self.store.session() as session:
            user = self._get(session, name)
            if role != "admin" and self._is_last_admin(session, user):
                raise InvalidInputError("the last enabled admin cannot lose the role.")
            user.role = role

    def delete_user(self, name: str, *, by: User) -> None:
        """Remove a user with every analysis, alert, token and kept media of theirs."""
        require(by, "manage_users")
        with self.store.session() as session:
            user = self._get(session, name)
            if self._is_last_admin(session, user):
                raise InvalidInputError("the last enabled admin cannot be deleted.")
        self.store.delete_user_data(user)
        with self.store.session() as session:
            session.delete(session.get(User, user.id))

    def authenticate(self, name: str, password: str, *, source: str) -> User:
        """The user, if the password matches and the account is enabled.

        Wrong passwords slow down the next attempts: strongly from the same ``source`` address (whatever the
        name), mildly on the named account (so a stranger cannot keep its owner out for long). A success resets
        the account's back-off and takes its failures off the source's count, so owners are forgiven their own
        typos while a guesser gains nothing by signing in to an account of their own.
        """
        import bcrypt

        self._sign_in_sources.check(source)
        now = self.clock()
        with self.store.session() as session:
            user = session.scalar(select(User).where(User.name == name.strip()))
            if user is None:
                bcrypt.checkpw(b"x", _dummy_hash())  # the same work as a real check: no timing hint
            else:
                refuse_until(aware(user.locked_until), now)
                if bcrypt.checkpw(password.encode(), user.password_hash.encode()):
                    _refuse_disabled(user)
                    self._sign_in_sources.forgive(source, user.failed_logins)
                    user.failed_logins, user.locked_until = 0, None
                    return user
                user.failed_logins, user.locked_until = ACCOUNT_BACKOFF.after_failure(
                    user.failed_logins, aware(user.locked_until), now)
            self._sign_in_sources.failure(source)
        raise AuthenticationFailed("wrong name or password.")

    def set_password(self, name: str, password: str, *, by: User, keep_session: str | None = None) -> None:
        """Give user ``name`` a new password (themselves, or an admin resetting it) and sign out each of their
        browsers but the one holding ``keep_session``."""
        if by.name != name:
            require(by, "manage_users")
        _check_password(password)
        with self.store.session() as session:
            user = self._get(session, name)
            user.password_hash = hash_password(password)
            user.failed_logins, user.locked_until = 0, None
            self._end_sessions(session, user, keep=keep_session)

    def change_password(self, user: User, *, current: str, new: str, source: str,
                        keep_session: str | None = None) -> None:
        """A user's own change: the current password is checked first, with the sign-in back-off."""
        self.authenticate(user.name, current, source=source)
        self.set_password(user.name, new, by=user, keep_session=keep_session)

    def set_disabled(self, name: str, disabled: bool, *, by: User) -> None:
        """Disable an account (no sign-in, no API token, until enabled again; its browsers are signed out) or
        enable it."""
        require(by, "manage_users")
        with self.store.session() as session:
            user = self._get(session, name)
            if disabled and self._is_last_admin(session, user):
                raise InvalidInputError("the last enabled admin cannot be disabled.")
            user.disabled = disabled
            if disabled:
                self._end_sessions(session, user)

    # Browser sessions -------------------------------------------------------------------------------------

    def start_session(self, user: User) -> str:
        """A new browser session for ``user``, valid for :data:`SESSION_LIFETIME`; the token is returned once."""
        token = secrets.token_urlsafe(32)
        with self.store.session() as session:
            session.add(BrowserSession(user_id=user.id, digest=_token_digest(token),
                                       expires_at=self.clock() + SESSION_LIFETIME))
        return token

    def user_for_session(self, token: str) -> User | None:
        """The session's user, freshly read; None once the session has expired or ended, or the account is
        disabled (so disabling an account signs it out at its next page run)."""
        with self.store.session() as session:
            found = session.scalar(select(BrowserSession).where(BrowserSession.digest == _token_digest(token)))
            if found is None or found.revoked_at is not None or aware(found.expires_at) <= self.clock():
                return None
            user = session.get(User, found.user_id)
            return None if user.disabled else user

    def end_session(self, token: str) -> None:
        """Sign a browser out: its token no longer works (an unknown token is ignored)."""
        with self.store.session() as session:
            found = session.scalar(select(BrowserSession).where(BrowserSession.digest == _token_digest(token)))
            if found is not None and found.revoked_at is None:
                found.revoked_at = self.clock()

    def _end_sessions(self, session, user: User, *, keep: str | None = None) -> None:
        """End every session of ``user`` but the one whose token is ``keep``."""
        open_sessions = select(BrowserSession).where(BrowserSession.user_id == user.id,
                                                     BrowserSession.revoked_at.is_(None))
        if keep is not None:
            open_sessions = open_sessions.where(BrowserSession.digest != _token_digest(keep))
        for found in session.scalars(open_sessions):
            found.revoked_at = self.clock()

    # Tokens ------------------------------------------------------------------------------------------------

    def create_token(self, name: str, *, label: str = "", by: User | None = None) -> str:
        """A new API token for user ``name``; the plain token is returned once and never stored."""
        with self.store.session() as session:
            user = self._get(session, name)
            if by is not None and by.id != user.id:
                require(by, "manage_users")
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            session.add(ApiToken(user_id=user.id, digest=_token_digest(token), prefix=token[:10], label=label))
        return token

    def user_for_token(self, token: str, *, source: str | None = None) -> User:
        """The token's user. With a ``source`` address, wrong tokens from it make its next attempts wait."""
        if source is not None:
            self._token_sources.check(source)
        with self.store.session() as session:
            found = session.scalar(select(ApiToken).where(ApiToken.digest == _token_digest(token)))
            if found is None or found.revoked_at is not None:
                if source is not None:
                    self._token_sources.failure(source)
                raise AuthenticationFailed("unknown or revoked API token.")
            user = session.get(User, found.user_id)
            _refuse_disabled(user)
            now = self.clock()
            used = aware(found.last_used_at)
            if used is None or now - used > TOKEN_USE_GRANULARITY:
                found.last_used_at = now
            return user

    def tokens(self, user: User) -> list[ApiToken]:
        with self.store.session() as session:
            return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))

    def revoke_token(self, token_id: int, *, by: User) -> None:
        with self.store.session() as session:
            found = session.get(ApiToken, token_id)
            if found is None or not owns(by, found.user_id):
                raise NotFound(f"token {token_id} does not exist or is not yours.")
            found.revoked_at = self.clock()

    @staticmethod
    def _get(session, name: str) -> User:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"user {name!r} does not exist.")
        return user

    @staticmethod
    def _is_last_admin(session, user: User) -> bool:
        """Whether ``user`` is the only enabled admin, whom the others cannot do without."""
        if user.role != "admin" or user.disabled:
            return False
        enabled_admins = select(func.count(User.id)).where(User.role == "admin", User.disabled.is_(False))
        return session.scalar(enabled_admins) == 1
