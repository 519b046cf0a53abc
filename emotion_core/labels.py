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
    "joy": "happy",
    "joyful": "happy",
    "sad": "sad",
    "sadness": "sad",
    "surprise": "surprise",
    "surprised": "surprise",
    "neutral": "neutral",
}

# GoEmotions' own grouping of its 27 emotions into Ekman's six (Demszky et al., 2020, ekman_mapping.json);
# "neutral" stays neutral. The data set's ekman/ files already apply it.
GOEMOTIONS_EKMAN: dict[str, tuple[str, ...]] = {
    "anger": ("anger", "annoyance", "disapproval"),
    "disgust": ("disgust",),
    "fear": ("fear", "nervousness"),
    "joy": ("joy", "amusement", "approval", "excitement", "gratitude", "love", "optimism", "relief", "pride",
            "admiration", "desire", "caring"),
    "sadness": ("sadness", "disappointment", "embarrassment", "grief", "remorse"),
    "surprise": ("surprise", "realization", "confusion", "curiosity"),
    "neutral": ("neutral",),
}
_EKMAN_TO_CANONICAL = {"anger": "angry", "disgust": "disgust", "fear": "fear", "joy": "happy", "sadness": "sad",
                       "surprise": "surprise", "neutral": "neutral"}

# Per-data-set label tables: the only place where a data set's classes meet the canonical ones.
DATASET_LABELS: dict[str, dict[str, str]] = {
    # FER-2013 uses the canonical names already; the table documents that fact.
    "fer2013": {name: name for name in EMOTIONS},
    # dair-ai emotion has no disgust and no neutral; "love" is a positive state and joins "joy" in happy.
    "dair_emotion": {"sadness": "sad", "joy": "happy", "love": "happy", "anger": "angry", "fear": "fear",
                     "surprise": "surprise"},
    "goemotions_ekman": dict(_EKMAN_TO_CANONICAL),
    # RAVDESS' "calm" is a low-arousal, neutral-valence delivery of the same sentences: it joins neutral.
    "ravdess": {"neutral": "neutral", "calm": "neutral", "happy": "happy", "sad": "sad", "angry": "angry",
                "fearful": "fear", "disgust": "disgust", "surprised": "surprise"},
    # EmoDB's boredom has no canonical counterpart (low arousal, mildly negative): it is reported, not merged.
    "emodb": {"anger": "angry", "disgust": "disgust", "fear": "fear", "happiness": "happy", "sadness": "sad",
              "neutral": "neutral"},
    # EMOVO (Italian) uses the canonical seven, spelt out by its file-name codes (EMOVO_EMOTION_CODES).
    "emovo": {name: name for name in EMOTIONS},
    # TESS's "pleasant surprise" (file code ps) is the surprise it has; its other six are the canonical names.
    "tess": {"angry": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy", "neutral": "neutral",
             "pleasant surprise": "surprise", "sad": "sad"},
    # TurEV-DB (Turkish) has no neutral class: its calm ("sakin") reads the same words without emotional colouring,
    # low arousal and neutral valence, and joins neutral as RAVDESS' calm does.
    "turevdb": {"angry": "angry", "happy": "happy", "sad": "sad", "calm": "neutral"},
    # EYASE (Egyptian Arabic) has four of the canonical seven.
    "eyase": {"angry": "angry", "happy": "happy", "neutral": "neutral", "sad": "sad"},
    "goemotions": {fine: _EKMAN_TO_CANONICAL[ekman] for ekman, fines in GOEMOTIONS_EKMAN.items() for fine in fines},
    # MELD (TV dialogue) uses Ekman's six and neutral.
    "meld": {"anger": "angry", "disgust": "disgust", "fear": "fear", "joy": "happy", "sadness": "sad",
             "surprise": "surprise", "neutral": "neutral"},
    # CrowdFlower's 13 tweet labels: hate joins anger, and the positive states happiness, fun, enthusiasm and
    # love join happy (love as in dair-ai); worry is fear's low-arousal form. Empty (no emotion *judged*, not
    # neutral), boredom and relief have no canonical counterpart and are left out.
    "crowdflower": {"anger": "angry", "hate": "angry", "happiness": "happy", "fun": "happy", "enthusiasm": "happy",
                    "love": "happy", "worry": "fear", "sadness": "sad", "surprise": "surprise",
                    "neutral": "neutral"},
    # XED's Plutchik emotions (see XED_CODES); anticipation and trust have no canonical counterpart.
    "xed": {"anger": "angry", "disgust": "disgust", "fear": "fear", "joy": "happy", "sadness": "sad",
            "surprise": "surprise", "neutral": "neutral"},
    # FER+'s crowd votes for FER-2013 pictures; contempt, unknown and NF ("not a face") have no canonical counterpart.
    "ferplus": {"neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad",
                "anger": "angry", "disgust": "disgust", "fear": "fear"},
    # RAF-DB basic names its class folders by number (Li et al., CVPR 2017; DATASET/{train,test}/1..7).
    "rafdb": {"1": "surprise", "2": "fear", "3": "disgust", "4": "happy", "5": "sad", "6": "angry", "7": "neutral"},
}


# Label codes: file names of the speech corpora (see ../shared/data/README.md), ids of XED.
RAVDESS_EMOTION_CODES = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
                         "07": "disgust", "08": "surprised"}
# XED's label ids (en-annotated.tsv; 9 is the neutral file neu_en.txt).
XED_CODES = {"1": "anger", "2": "anticipation", "3": "disgust", "4": "fear", "5": "joy", "6": "sadness",
             "7": "surprise", "8": "trust", "9": "neutral"}
EMODB_EMOTION_CODES = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness", "T": "sadness",
                       "N": "neutral"}
EMOVO_EMOTION_CODES = {"dis": "disgust", "gio": "happy", "neu": "neutral", "pau": "fear", "rab": "angry",
                       "sor": "surprise", "tri": "sad"}
TESS_EMOTION_CODES = {"angry": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy", "neutral": "neutral",
                      "ps": "pleasant surprise", "sad": "sad"}
# TurEV-DB's Turkish codes: kızgın, mutlu, hüzünlü, sakin (its folders Angry, Happy, Sad, Calm).
TUREVDB_EMOTION_CODES = {"kz": "angry", "mt": "happy", "hl": "sad", "sk": "calm"}
EYASE_EMOTION_CODES = {"ang": "angry", "hap": "happy", "neu": "neutral", "sad": "sad"}


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
