"""Errors that Emotion Lens raises on purpose.

Every surface (pages, API, CLI) catches :class:`EmotionLensError` and shows its message; anything else is a bug.
"""


class EmotionLensError(Exception):
    """Root of every error that carries a message meant for the user."""


class InvalidInputError(EmotionLensError, ValueError):
    """The input (file, array, text, label) cannot be analysed; the message says why."""


class UnsupportedMediaError(InvalidInputError):
    """The input is not the kind of file expected (a PDF where an image belongs, a video without sound)."""


class ModelUnavailableError(EmotionLensError, RuntimeError):
    """A model's weights or card are missing or unreadable."""


class PermissionDenied(EmotionLensError, PermissionError):
    """The user's role does not allow this."""


class NotFound(EmotionLensError, LookupError):
    """No such record, or not one this user may see."""


class AuthenticationFailed(EmotionLensError):
    """Wrong name or password, or an unknown or revoked token."""


class LimitReached(EmotionLensError):
    """Too much asked for lately (wrong tokens from one address, jobs under way): retry after ``retry_after``
    seconds."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class TooManyAttempts(AuthenticationFailed, LimitReached):
    """Too many failed sign-ins or tokens lately: the next attempt is refused until ``retry_after`` seconds
    have passed."""

    def __init__(self, retry_after: int):
        wait = f"{retry_after} s" if retry_after < 120 else f"{-(-retry_after // 60)} min"
        super().__init__(f"too many failed attempts: try again in {wait}.", retry_after=retry_after)
