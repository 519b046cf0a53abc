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
    """Wrong name or password, a locked account, or an unknown or revoked token."""


class LimitReached(EmotionLensError):
    """The user already has as much under way as allowed (jobs queued or running); retry after a while."""

    def __init__(self, message: str, *, retry_after_s: int):
        super().__init__(message)
        self.retry_after_s = retry_after_s
