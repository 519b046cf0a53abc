"""The canonical emotion labels and the one place that maps data-set labels onto them.

Every model outputs scores over :data:`EMOTIONS`, in this order. Data sets name their classes differently
(``anger``/``angry``, ``happiness``/``joy``, ``scared``/``fear`` ...); :func:`to_canonical` is the only function
that translates them. A label with no place in the canonical set (``contempt``, say) raises
:class:`UnknownLabelError` so that callers can report it rather than merge it silently.
"""

from __future__ import annotations

from emotion_core.errors import InvalidInputError

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

EMOJI: dict[str, str] = {
    "angry": "😠",
    "disgust": "🤢",
    "fear": "😨",
    "happy": "😄",
    "sad": "😢",
    "surprise": "😮",
    "neutral": "😐",
}

# Names that different data sets (and people) use for the canonical classes.
_SYNONYMS: dict[str, str] = {
    "angry": "angry",
    "anger": "angry",
    "disgust": "disgust",
    "disgusted": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "scared": "fear",
    "afraid": "fear",
    "happy": "happy",
    "happiness": "happy",
    "sad": "sad",
    "sadness": "sad",
    "surprise": "surprise",
    "surprised": "surprise",
    "neutral": "neutral",
}

# Per-data-set label tables. FER-2013 uses the canonical names already; the table documents that fact.
DATASET_LABELS: dict[str, dict[str, str]] = {
    "fer2013": {name: name for name in EMOTIONS},
}


class UnknownLabelError(InvalidInputError):
    """A data-set label that has no canonical counterpart."""

    def __init__(self, label: str, dataset: str | None = None) -> None:
        where = f" of data set {dataset!r}" if dataset else ""
        super().__init__(
            f"label {label!r}{where} has no place in the canonical set {', '.join(EMOTIONS)}; it is not merged."
        )
        self.label = label


def to_canonical(label: str, *, dataset: str | None = None) -> str:
    """Map a data-set label to its canonical emotion.

    Parameters
    ----------
    label : str
        The label as the data set spells it; case and surrounding space are ignored.
    dataset : str, optional
        A key of :data:`DATASET_LABELS`. Without it, the common synonyms apply.

    Raises
    ------
    UnknownLabelError
        If the label has no canonical counterpart (e.g. ``contempt``).

    Examples
    --------
    >>> to_canonical("Happiness")
    'happy'
    >>> to_canonical("scared")
    'fear'
    """
    key = label.strip().lower()
    table = DATASET_LABELS.get(dataset, _SYNONYMS) if dataset else _SYNONYMS
    if dataset and dataset not in DATASET_LABELS:
        raise InvalidInputError(f"dataset: expected one of {sorted(DATASET_LABELS)}, got {dataset!r}.")
    try:
        return table[key]
    except KeyError:
        raise UnknownLabelError(label, dataset) from None


def label_index(label: str) -> int:
    """Position of a canonical label in :data:`EMOTIONS`."""
    return EMOTIONS.index(label)
