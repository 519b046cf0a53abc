"""VADER sentiment (its lexicon ships inside the vaderSentiment wheel): compound in [-1, 1] and the shares of
positive, neutral and negative words."""

from __future__ import annotations

import functools

MAX_WORDS = 50
"""VADER reads at most this many words at once. Its rules look only a few words around each word, but it re-reads
the whole text for every sentiment word, so one call costs the square of the text's length (25 s for 100,000
characters); a longer text is scored in pieces of this many words, averaged by their number of words."""


@functools.cache
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _vader(text: str) -> dict[str, float]:
    """VADER's scores of the text, or of its pieces of :data:`MAX_WORDS` words averaged when it is longer (an
    emoji counts as the words of its description, as VADER reads it)."""
    analyzer = _analyzer()
    words = "".join(f" {analyzer.emojis[ch]} " if ch in analyzer.emojis else ch for ch in text).split()
    if len(words) <= MAX_WORDS:
        return analyzer.polarity_scores(text)
    pieces = [words[i:i + MAX_WORDS] for i in range(0, len(words), MAX_WORDS)]
    scores = [analyzer.polarity_scores(" ".join(piece)) for piece in pieces]
    return {key: round(sum(s[key] * len(piece) for s, piece in zip(scores, pieces)) / len(words), digits)
            for key, digits in (("compound", 4), ("pos", 3), ("neu", 3), ("neg", 3))}


def sentiment(text: str) -> dict[str, float | str]:
    """``compound``, ``positive``, ``neutral``, ``negative`` and a ``polarity`` word.

    The polarity follows VADER's authors: compound >= 0.05 positive, <= -0.05 negative, neutral between.

    Examples
    --------
    >>> sentiment("I love this!")["polarity"]
    'positive'
    """
    scores = _vader(text)
    compound = scores["compound"]
    polarity = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
    return {"compound": compound, "positive": scores["pos"], "neutral": scores["neu"], "negative": scores["neg"],
            "polarity": polarity}
