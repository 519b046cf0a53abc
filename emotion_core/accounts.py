"""Users, roles, passwords (bcrypt), login back-off and API tokens (stored as SHA-256 digests only)."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from emotion_core.db import ApiToken, User, utcnow
from emotion_core.errors import AuthenticationFailed, InvalidInputError, NotFound
from emotion_core.permissions import ROLES, require
from emotion_core.store import HistoryStore

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10
TOKEN_PREFIX = "el_"
TOKEN_USE_GRANULARITY = timedelta(minutes=1)
"""A token's ``last_used_at`` is rewritten at most this often, so an API request is not also a database write."""


def _aware(moment: datetime | None) -> datetime | None:
    """A stored time as UTC-aware (SQLite gives back naive datetimes)."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def hash_password(password: str) -> str:
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


@functools.cache
def _dummy_hash() -> bytes:
    return hash_password("no such user").encode()


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()  # any string: no match, no crash


class Accounts:
    """User and token management on top of a :class:`HistoryStore`."""

    def __init__(self, store: HistoryStore):
        self.store = store

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
        if len(password) < MIN_PASSWORD:
            raise InvalidInputError(f"password: at least {MIN_PASSWORD} characters.")
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
            if user.role == "admin" and role != "admin" and self._admins(session) == 1:
                raise InvalidInputError("the last admin cannot lose the role.")
            user.role = role

    def delete_user(self, name: str, *, by: User) -> None:
        """Remove a user with every analysis, alert, token and kept media of theirs."""
        require(by, "manage_users")
        with self.store.session() as session:
            user = self._get(session, name)
            if user.role == "admin" and self._admins(session) == 1:
                raise InvalidInputError("the last admin cannot be deleted.")
        self.store.delete_user_data(user)
        with self.store.session() as session:
            session.delete(session.get(User, user.id))

    def authenticate(self, name: str, password: str) -> User:
        """The user, if the password matches and the account is not locked.

        After :data:`MAX_FAILED_LOGINS` wrong passwords in a row the account is locked for :data:`LOCKOUT`,
        whatever is typed, which makes guessing slow.
        """
        import bcrypt

        with self.store.session() as session:
            user = session.scalar(select(User).where(User.name == name.strip()))
            if user is None:
                bcrypt.checkpw(b"x", _dummy_hash())  # the same work as a real check: no timing hint
                raise AuthenticationFailed("wrong name or password.")
            now = utcnow()
            locked_until = _aware(user.locked_until)
            if locked_until is not None and locked_until > now:
                minutes = max(1, round((locked_until - now).total_seconds() / 60))
                raise AuthenticationFailed(f"too many failed sign-ins: try again in {minutes} min.")
            if not bcrypt.checkpw(password.encode(), user.password_hash.encode()):
                user.failed_logins += 1
                if user.failed_logins >= MAX_FAILED_LOGINS:
                    user.locked_until, user.failed_logins = now + LOCKOUT, 0
                message = "wrong name or password."
            else:
                user.failed_logins, user.locked_until = 0, None
                return user
        raise AuthenticationFailed(message)

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

    def user_for_token(self, token: str) -> User:
        with self.store.session() as session:
            found = session.scalar(select(ApiToken).where(ApiToken.digest == _token_digest(token)))
            if found is None or found.revoked_at is not None:
                raise AuthenticationFailed("unknown or revoked API token.")
            used = _aware(found.last_used_at)
            if used is None or utcnow() - used > TOKEN_USE_GRANULARITY:
                found.last_used_at = utcnow()
            return session.get(User, found.user_id)

    def tokens(self, user: User) -> list[ApiToken]:
        with self.store.session() as session:
            return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))

    def revoke_token(self, token_id: int, *, by: User) -> None:
        with self.store.session() as session:
            found = session.get(ApiToken, token_id)
            if found is None or (found.user_id != by.id and by.role != "admin"):
                raise NotFound(f"token {token_id} does not exist or is not yours.")
            found.revoked_at = utcnow()

    @staticmethod
    def _get(session, name: str) -> User:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"user {name!r} does not exist.")
        return user

    @staticmethod
    def _admins(session) -> int:
        return session.scalar(select(func.count(User.id)).where(User.role == "admin")) or 0
