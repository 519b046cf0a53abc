"""VADER sentiment (its lexicon ships inside the vaderSentiment wheel): compound in [-1, 1] and the shares of
positive, neutral and negative words."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from emotion_core.errors import InvalidInputError

MAX_WORDS = 50
"""VADER reads at most this many words at once. Its rules look only a few words around each word, but it re-reads
the whole text for every sentiment word, so one call costs the square of the text's length (25 s for 100,000
characters); a longer text is scored in pieces of this many words."""
MAX_TEXT_WORDS = 50_000
"""Most words VADER reads in one text: all that 100,000 characters of one-letter words hold. Only emoji go beyond
(VADER reads each as the words of its description, up to six: 100,000 of them took 12 s), and such a text is
refused by :func:`check_length`."""
_DIGITS = {"compound": 4, "positive": 3, "neutral": 3, "negative": 3}  # as VADER rounds them


@functools.cache
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_words(text: str) -> list[str]:
    """The words VADER reads: the text split at white space, each emoji replaced by the words of its description."""
    emojis = _analyzer().emojis
    return "".join(f" {emojis[ch]} " if ch in emojis else ch for ch in text).split()


def check_length(text: str, *, name: str = "text") -> None:
    """Raises :class:`InvalidInputError` when VADER would read more than :data:`MAX_TEXT_WORDS` words."""
    words = len(vader_words(text))
    if words > MAX_TEXT_WORDS:
        raise InvalidInputError(f"{name}: {words:,} words as the sentiment model reads them (an emoji is the words of "
                                f"its description) is more than the {MAX_TEXT_WORDS:,} analysed at once; split it "
                                "into parts.")


def sentiment(text: str) -> dict[str, float | str]:
    """``compound``, ``positive``, ``neutral``, ``negative`` and a ``polarity`` word.

    A text of more than :data:`MAX_WORDS` words (an emoji counts as the words of its description, as VADER reads
    it) gets the mean of its pieces of that many words, weighted by their words.

    Examples
    --------
    >>> sentiment("I love this!")["polarity"]
    'positive'
    """
    words = vader_words(text)
    if len(words) <= MAX_WORDS:
        scores = _analyzer().polarity_scores(text)
        return _with_polarity({"compound": scores["compound"], "positive": scores["pos"], "neutral": scores["neu"],
                               "negative": scores["neg"]})
    pieces = [words[i:i + MAX_WORDS] for i in range(0, len(words), MAX_WORDS)]
    return mean_sentiment([sentiment(" ".join(piece)) for piece in pieces], [len(piece) for piece in pieces])


def mean_sentiment(moods: Sequence[dict[str, float | str]], weights: Sequence[float]) -> dict[str, float | str]:
    """The weighted mean of several :func:`sentiment` results (a text's pieces, or its sentences)."""
    total = float(sum(weights))
    return _with_polarity({key: round(sum(float(m[key]) * w for m, w in zip(moods, weights)) / total, digits)
                           for key, digits in _DIGITS.items()})


def _with_polarity(scores: dict[str, float]) -> dict[str, float | str]:
    """The polarity follows VADER's authors: compound >= 0.05 positive, <= -0.05 negative, neutral between."""
    compound = scores["compound"]
    return {**scores, "polarity": "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"}
