"""Labelled speech corpora: where each corpus keeps its clips, and how its file names code emotion and speaker.

Readers take the corpus folder as a parameter (data is never in the project): RAVDESS and EmoDB live in the
shared data folder (``--data``, e.g. ``../shared/data/speech``), EMOVO in a cache folder of its own
(``--emovo`` or ``EMOTION_EMOVO_DIR``).

| corpus | language | speakers | coding |
|---|---|---|---|
| RAVDESS | English | 24 actors | ``ravdess/Actor_NN/03-01-EE-II-SS-RR-AA.*``: EE emotion, AA actor |
| EmoDB | German | 10 | ``emodb/SSTTTEV.*``: SS speaker, E emotion letter |
| EMOVO | Italian | 6 (f1-3, m1-3) | ``<speaker>/<emo>-<speaker>-<n>.wav``: emo dis, gio, neu, pau, rab, sor, tri |
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emotion_core.errors import InvalidInputError
from emotion_core.labels import (
    EMODB_EMOTION_CODES,
    EMOVO_EMOTION_CODES,
    RAVDESS_EMOTION_CODES,
    UnknownLabelError,
    to_canonical,
)

CORPORA = ("ravdess", "emodb", "emovo")
EMOVO_ENV = "EMOTION_EMOVO_DIR"

# Fixed speaker-independent split, by the corpora's own speaker ids. RAVDESS: odd actors are male.
# EmoDB speakers 03, 10, 11, 12, 15 are male and 08, 09, 13, 14, 16 female. EMOVO: f* female, m* male.
SPLIT: dict[str, dict[str, tuple[str, ...]]] = {
    "test": {"ravdess": ("21", "22", "23", "24"), "emodb": ("15", "16"), "emovo": ("f3", "m3")},
    "validation": {"ravdess": ("19", "20"), "emodb": ("12", "14"), "emovo": ("f2", "m2")},
}

_RAVDESS_NAME = re.compile(r"^03-01-(\d\d)-\d\d-\d\d-\d\d-(\d\d)$")
_EMODB_NAME = re.compile(r"^(\d\d)[a-z]\d\d([A-Z])[a-z]$")
_EMOVO_NAME = re.compile(r"^([a-z]{3})-([fm]\d)-[a-z]\d$")


@dataclass(frozen=True)
class SpeechClip:
    """One labelled recording of a corpus."""

    path: Path
    corpus: str
    speaker: str
    raw_label: str
    label: str | None  # canonical, or None when the corpus label has no counterpart (EmoDB's boredom)

    @property
    def split(self) -> str:
        for name, speakers in SPLIT.items():
            if self.speaker in speakers.get(self.corpus, ()):
                return name
        return "train"

    @property
    def speaker_key(self) -> str:
        """The speaker, unique across corpora."""
        return f"{self.corpus}-{self.speaker}"


def _clip(path: Path, corpus: str, speaker: str, raw_label: str) -> SpeechClip:
    try:
        label = to_canonical(raw_label, dataset=corpus)
    except UnknownLabelError:
        label = None
    return SpeechClip(path=path, corpus=corpus, speaker=speaker, raw_label=raw_label, label=label)


def ravdess_clips(root: str | Path) -> list[SpeechClip]:
    """RAVDESS speech under ``root`` (``Actor_NN/*``)."""
    clips = []
    for path in sorted(Path(root).glob("Actor_*/*")):
        match = _RAVDESS_NAME.match(path.stem)
        if match:
            clips.append(_clip(path, "ravdess", match.group(2), RAVDESS_EMOTION_CODES[match.group(1)]))
    return clips


def emodb_clips(root: str | Path) -> list[SpeechClip]:
    """EmoDB under ``root`` (``*.flac`` / ``*.wav``)."""
    clips = []
    for path in sorted(Path(root).glob("*")):
        match = _EMODB_NAME.match(path.stem)
        if match and match.group(2) in EMODB_EMOTION_CODES:
            clips.append(_clip(path, "emodb", match.group(1), EMODB_EMOTION_CODES[match.group(2)]))
    return clips


def emovo_clips(root: str | Path) -> list[SpeechClip]:
    """EMOVO under ``root`` (``{f1,...,m3}/<emo>-<speaker>-<sentence>.wav``); the speaker is the folder."""
    clips = []
    for path in sorted(Path(root).glob("*/*.wav")):
        match = _EMOVO_NAME.match(path.stem)
        if match and match.group(1) in EMOVO_EMOTION_CODES and match.group(2) == path.parent.name:
            clips.append(_clip(path, "emovo", match.group(2), EMOVO_EMOTION_CODES[match.group(1)]))
    return clips


READERS: dict[str, Callable[[Path], list[SpeechClip]]] = {
    "ravdess": ravdess_clips, "emodb": emodb_clips, "emovo": emovo_clips}


def corpus_roots(data_dir: str | Path | None, emovo_dir: str | Path | None = None) -> dict[str, Path]:
    """Each corpus' folder: RAVDESS and EmoDB inside ``data_dir``; EMOVO at ``emovo_dir``, else at
    ``$EMOTION_EMOVO_DIR``, else nowhere. A corpus whose folder is not there is left out."""
    roots: dict[str, Path] = {}
    if data_dir is not None:
        roots.update({"ravdess": Path(data_dir) / "ravdess", "emodb": Path(data_dir) / "emodb"})
    emovo_dir = emovo_dir or os.environ.get(EMOVO_ENV)
    if emovo_dir:
        roots["emovo"] = Path(emovo_dir)
    return {corpus: root for corpus, root in roots.items() if root.is_dir()}


def speech_corpus_clips(data_dir: str | Path | None, *, emovo_dir: str | Path | None = None,
                        corpora: tuple[str, ...] = CORPORA) -> list[SpeechClip]:
    """Every clip of the ``corpora`` found (see :func:`corpus_roots`), in corpus order.

    Raises
    ------
    InvalidInputError
        When none of the corpora has a clip there.
    """
    roots = corpus_roots(data_dir, emovo_dir)
    if data_dir is not None and not {"ravdess", "emodb"} & set(roots):
        raise InvalidInputError(f"data: neither ravdess/ nor emodb/ under {data_dir}.")
    clips = [clip for corpus in corpora if corpus in roots for clip in READERS[corpus](roots[corpus])]
    if not clips:
        raise InvalidInputError(f"data: no clips of {', '.join(corpora)} under {data_dir}"
                                + (f" or {emovo_dir}" if emovo_dir else "") + ".")
    return clips
