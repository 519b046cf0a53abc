"""Labelled speech corpora: where each corpus keeps its clips, and how its file names code emotion and speaker.

Readers take the corpus folder as a parameter (data is never in the project): RAVDESS and EmoDB live in the
shared data folder (``--data``, e.g. ``../shared/data/speech``); every other corpus in a cache folder of its own,
given as a parameter or by its environment variable (:data:`CORPUS_ENV`: ``--emovo`` or ``EMOTION_EMOVO_DIR``,
``EMOTION_TESS_DIR``, ``EMOTION_TUREVDB_DIR``, ``EMOTION_EYASE_DIR``).

| corpus | language | speakers | coding |
|---|---|---|---|
| RAVDESS | English | 24 actors | ``ravdess/Actor_NN/03-01-EE-II-SS-RR-AA.*``: EE emotion, AA actor |
| EmoDB | German | 10 | ``emodb/SSTTTEV.*``: SS speaker, E emotion letter |
| EMOVO | Italian | 6 (f1-3, m1-3) | ``<speaker>/<emo>-<speaker>-<n>.wav``: emo dis, gio, neu, pau, rab, sor, tri |
| TESS | English | 2 (OAF, YAF) | ``**/<spk>_<word>_<emo>.wav``: emo angry, disgust, fear, happy, neutral, ps, sad |
| TurEV-DB | Turkish | 6 (1157 ... 7895) | ``<Emotion>/<speaker>_<emo>_<word>.wav``: emo kz, mt, hl, sk |
| EYASE | Egyptian Arabic | 6 (Female/Male01-03) | ``<speaker>/{fm,ml}NN_<emo> (<n>).wav``: emo ang, hap, neu, sad |

TESS' one ``OA_bite_neutral`` is speaker OAF, and the ``<n>test`` prefix and number suffix of the renamed copy in
GitHub deepxzy/Toronto-emotional-speech-set (datasets/testnew/) are read past. EYASE's speaker is the folder
(Female02's files are named ``fm01_*``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from emotion_core.errors import InvalidInputError
from emotion_core.labels import (
    EMODB_EMOTION_CODES,
    EMOVO_EMOTION_CODES,
    EYASE_EMOTION_CODES,
    RAVDESS_EMOTION_CODES,
    TESS_EMOTION_CODES,
    TUREVDB_EMOTION_CODES,
    UnknownLabelError,
    to_canonical,
)

CORPORA = ("ravdess", "emodb", "emovo", "tess", "turevdb", "eyase")
SHARED_CORPORA = ("ravdess", "emodb")  # folders of the shared data folder; the others have folders of their own
CORPUS_ENV = {"emovo": "EMOTION_EMOVO_DIR", "tess": "EMOTION_TESS_DIR", "turevdb": "EMOTION_TUREVDB_DIR",
              "eyase": "EMOTION_EYASE_DIR"}
EMOVO_ENV = CORPUS_ENV["emovo"]

# Fixed speaker-independent split, by the corpora's own speaker ids. RAVDESS: odd actors are male.
# EmoDB speakers 03, 10, 11, 12, 15 are male and 08, 09, 13, 14, 16 female. EMOVO: f* female, m* male.
# TESS has two speakers: the young one is the test speaker and the older one trains; none is left to validate.
# TurEV-DB's speakers are numbers that do not tell gender; 1984 and 6783 recorded all four emotions in full.
SPLIT: dict[str, dict[str, tuple[str, ...]]] = {
    "test": {"ravdess": ("21", "22", "23", "24"), "emodb": ("15", "16"), "emovo": ("f3", "m3"), "tess": ("YAF",),
             "turevdb": ("1984",), "eyase": ("Female03", "Male03")},
    "validation": {"ravdess": ("19", "20"), "emodb": ("12", "14"), "emovo": ("f2", "m2"), "turevdb": ("6783",),
                   "eyase": ("Female02", "Male02")},
}


@dataclass(frozen=True)
class Naming:
    """How a corpus names its clips: ``pattern`` must match ``<folder>/<stem>`` of each file that ``glob`` finds
    under the corpus folder, its group ``code`` being a key of ``codes`` and its group ``speaker`` (renamed by
    ``aliases``) the speaker."""

    glob: str
    pattern: re.Pattern[str]
    codes: Mapping[str, str]
    aliases: Mapping[str, str] | None = None


NAMING: dict[str, Naming] = {
    "ravdess": Naming("Actor_*/*", re.compile(r"[^/]*/03-01-(?P<code>\d\d)-\d\d-\d\d-\d\d-(?P<speaker>\d\d)"),
                      RAVDESS_EMOTION_CODES),
    "emodb": Naming("*", re.compile(r"[^/]*/(?P<speaker>\d\d)[a-z]\d\d(?P<code>[A-Z])[a-z]"), EMODB_EMOTION_CODES),
    # the speaker in the name must be the folder's
    "emovo": Naming("*/*.wav", re.compile(r"(?P<speaker>[fm]\d)/(?P<code>[a-z]{3})-(?P=speaker)-[a-z]\d"),
                    EMOVO_EMOTION_CODES),
    # at any depth: the original's OAF_angry/... folders, or deepxzy's datasets/train/ and datasets/testnew/
    "tess": Naming("**/*.wav", re.compile(r"[^/]*/(?:\d+test)?(?P<speaker>OAF|YAF|OA)_[a-z]+_(?P<code>[a-z]+?)\d*"),
                   TESS_EMOTION_CODES, aliases={"OA": "OAF"}),
    "turevdb": Naming("*/*.wav", re.compile(r"[^/]*/(?P<speaker>\d{4})_(?P<code>[a-z]{2})_[^/]+"),
                      TUREVDB_EMOTION_CODES),
    "eyase": Naming("*/*.wav", re.compile(r"(?P<speaker>(?:Female|Male)\d\d)/(?:fm|ml)\d\d_(?P<code>[a-z]{3}) \(\d+\)"),
                    EYASE_EMOTION_CODES),
}


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


def corpus_clips(corpus: str, root: str | Path) -> list[SpeechClip]:
    """The clips of ``corpus`` under its folder ``root`` (see :data:`NAMING`); files named otherwise are skipped."""
    if corpus not in NAMING:
        raise InvalidInputError(f"corpus: expected one of {', '.join(CORPORA)}, got {corpus!r}.")
    naming = NAMING[corpus]
    clips = []
    for path in sorted(Path(root).glob(naming.glob)):
        match = naming.pattern.fullmatch(f"{path.parent.name}/{path.stem}")
        if match and match["code"] in naming.codes:
            speaker = (naming.aliases or {}).get(match["speaker"], match["speaker"])
            clips.append(_clip(path, corpus, speaker, naming.codes[match["code"]]))
    return clips


def corpus_roots(data_dir: str | Path | None, emovo_dir: str | Path | None = None, *,
                 dirs: Mapping[str, str | Path | None] | None = None) -> dict[str, Path]:
    """Each corpus' folder: RAVDESS and EmoDB inside ``data_dir``; every other corpus at its entry of ``dirs``
    (EMOVO's may come as ``emovo_dir``), else at its environment variable (:data:`CORPUS_ENV`), else nowhere.
    A corpus whose folder is not there is left out.

    Raises
    ------
    InvalidInputError
        When ``dirs`` names a corpus that has no folder of its own.
    """
    given = {"emovo": emovo_dir, **(dirs or {})}
    unknown = sorted(set(given) - set(CORPUS_ENV))
    if unknown:
        raise InvalidInputError(f"dirs: {', '.join(unknown)} is not one of {', '.join(CORPUS_ENV)}.")
    roots = {corpus: Path(data_dir) / corpus for corpus in SHARED_CORPORA} if data_dir is not None else {}
    for corpus, env in CORPUS_ENV.items():
        folder = given.get(corpus) or os.environ.get(env)
        if folder:
            roots[corpus] = Path(folder)
    return {corpus: root for corpus, root in roots.items() if root.is_dir()}


def speech_corpus_clips(data_dir: str | Path | None, *, emovo_dir: str | Path | None = None,
                        dirs: Mapping[str, str | Path | None] | None = None,
                        corpora: tuple[str, ...] = CORPORA) -> list[SpeechClip]:
    """Every clip of the ``corpora`` found (see :func:`corpus_roots`), in corpus order.

    Raises
    ------
    InvalidInputError
        When a name in ``corpora`` is not a corpus, or none of the corpora has a clip there.
    """
    unknown = [corpus for corpus in corpora if corpus not in CORPORA]
    if unknown:
        raise InvalidInputError(f"corpora: {', '.join(unknown)} is not one of {', '.join(CORPORA)}.")
    roots = corpus_roots(data_dir, emovo_dir, dirs=dirs)
    if data_dir is not None and not set(SHARED_CORPORA) & set(roots):
        raise InvalidInputError(f"data: neither ravdess/ nor emodb/ under {data_dir}.")
    clips = [clip for corpus in corpora if corpus in roots for clip in corpus_clips(corpus, roots[corpus])]
    if not clips:
        searched = [str(data_dir)] if data_dir is not None else []
        searched += [str(roots[c]) for c in corpora if c in roots and c not in SHARED_CORPORA]
        raise InvalidInputError(f"data: no clips of {', '.join(corpora)} under {' or '.join(searched) or 'no folder'}.")
    return clips
