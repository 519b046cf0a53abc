"""VADER sentiment (its lexicon ships inside the vaderSentiment wheel): compound in [-1, 1] and the shares of
positive, neutral and negative words."""

from __future__ import annotations

import functools


@functools.cache
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment(text: str) -> dict[str, float | str]:
    """``compound``, ``positive``, ``neutral``, ``negative`` and a ``polarity`` word.

    The polarity follows VADER's authors: compound >= 0.05 positive, <= -0.05 negative, neutral between.

    Examples
    --------
    >>> sentiment("I love this!")["polarity"]
    'positive'
    """
    scores = _analyzer().polarity_scores(text)
    compound = scores["compound"]
    polarity = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
    return {"compound": compound, "positive": scores["pos"], "neutral": scores["neu"], "negative": scores["neg"],
            "polarity": polarity}
