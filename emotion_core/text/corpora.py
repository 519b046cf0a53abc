"""Labelled text corpora: one reader per corpus, fixed splits, canonical labels (mapped in :mod:`emotion_core.labels`).

- ``dair``: ``dair_emotion/{train,val,test}.txt``; the corpus' own split.
- ``goemotions``: ``goemotions/ekman/{train,dev,test}.tsv``; the corpus' own split, rows with a single Ekman label.
- ``meld``: ``[data/]MELD/{train,dev,test}_sent_emo.csv`` (TV dialogue utterances); the corpus' own split.
- ``crowdflower``: ``text_emotion.csv`` (tweets); none published: by author, seeded hash, 80/10/10.
- ``xed``: ``[AnnotatedData/]en-annotated.tsv`` + ``neu_en.txt`` (film subtitles); none published: by text, seeded
  hash, 80/10/10; rows with a single label that maps.

A corpus is looked for in each of the data folders it is given, in turn (``--data A B``), so corpora kept in
different places can be read together. Rows whose label has no canonical counterpart (CrowdFlower's boredom, XED's
anticipation) are counted in :attr:`TextSet.dropped`, never merged.
"""

from __future__ import annotations

import csv
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emotion_core.errors import InvalidInputError
from emotion_core.labels import XED_CODES, UnknownLabelError, to_canonical

CORPORA: tuple[str, ...] = ("dair", "goemotions", "meld", "crowdflower", "xed")
SPLITS: tuple[str, ...] = ("train", "val", "test")
_SPLIT_ALIASES = {"train": "train", "val": "val", "dev": "val", "validation": "val", "test": "test"}
SPLIT_SEED = 18
"""Seed of the hashed splits of the corpora that publish none (CrowdFlower, XED)."""


@dataclass(frozen=True)
class TextSet:
    """Labelled texts: canonical labels, the corpus' own labels, and which corpus each text is from.

    ``dropped`` counts the rows left out because their label has no canonical counterpart, by that label.
    """

    name: str
    texts: list[str]
    labels: list[str]
    raw_labels: list[str]
    sources: list[str]
    dropped: dict[str, int] = field(default_factory=dict)

    def __add__(self, other: TextSet) -> TextSet:
        return TextSet(f"{self.name}+{other.name}", self.texts + other.texts, self.labels + other.labels,
                       self.raw_labels + other.raw_labels, self.sources + other.sources,
                       dict(Counter(self.dropped) + Counter(other.dropped)))


def _text_set(name: str, source: str, rows: Iterable[tuple[str, str]], *, dataset: str) -> TextSet:
    """``(text, raw label)`` rows mapped with ``dataset``'s table; unmapped labels are counted, not kept."""
    texts, labels, raw, dropped = [], [], [], Counter()
    for text, label in rows:
        try:
            canonical = to_canonical(label, dataset=dataset)
        except UnknownLabelError:
            dropped[label] += 1
            continue
        texts.append(text)
        labels.append(canonical)
        raw.append(label)
    return TextSet(name, texts, labels, raw, [source] * len(texts), dict(dropped))


def split_of(key: str, *, seed: int = SPLIT_SEED) -> str:
    """The split a group (an author, a text) falls in: 80 % train, 10 % val, 10 % test, by a seeded CRC-32.

    The same key always lands in the same split, on every machine and Python version.
    """
    bucket = zlib.crc32(f"{seed}:{key}".encode()) % 10
    return "train" if bucket < 8 else "val" if bucket == 8 else "test"


def check_split(split: str) -> str:
    """``train``, ``val`` (also ``dev``, ``validation``) or ``test``."""
    try:
        return _SPLIT_ALIASES[split]
    except KeyError:
        raise InvalidInputError(f"split: expected train, val (dev) or test, got {split!r}.") from None


def load_dair(data_dir: str | Path, split: str) -> TextSet:
    """dair-ai emotion: ``text;label_name`` lines, labels sadness, joy, love, anger, fear, surprise."""
    path = Path(data_dir) / "dair_emotion" / f"{check_split(split)}.txt"
    with path.open(encoding="utf-8") as f:
        rows = [(row["text"], row["label_name"]) for row in csv.DictReader(f, delimiter=";")]
    return _text_set(f"dair_{check_split(split)}", "dair", rows, dataset="dair_emotion")


def load_goemotions(data_dir: str | Path, split: str) -> TextSet:
    """GoEmotions at the Ekman level, rows with a single label (about 84 %); ``text \\t ids \\t comment id``."""
    folder = Path(data_dir) / "goemotions" / "ekman"
    names = (folder / "labels.txt").read_text(encoding="utf-8").split()
    split = {"val": "dev"}.get(check_split(split), check_split(split))
    rows = []
    with (folder / f"{split}.tsv").open(encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2 and "," not in parts[1]:
                rows.append((parts[0], names[int(parts[1])]))
    return _text_set(f"goemotions_{split}", "goemotions", rows, dataset="goemotions_ekman")


def load_meld(folder: str | Path, split: str) -> TextSet:
    """MELD utterances (``Utterance``, ``Emotion`` columns of ``{train,dev,test}_sent_emo.csv``)."""
    split = {"val": "dev"}.get(check_split(split), check_split(split))
    with (Path(folder) / f"{split}_sent_emo.csv").open(encoding="utf-8", newline="") as f:
        rows = [(row["Utterance"], row["Emotion"]) for row in csv.DictReader(f)]
    return _text_set(f"meld_{split}", "meld", rows, dataset="meld")


def load_crowdflower(folder: str | Path, split: str) -> TextSet:
    """CrowdFlower's tweets (``text_emotion.csv``: tweet_id, sentiment, author, content), split by author."""
    split = check_split(split)
    with (Path(folder) / "text_emotion.csv").open(encoding="utf-8", newline="") as f:
        rows = [(row["content"], row["sentiment"]) for row in csv.DictReader(f) if split_of(row["author"]) == split]
    return _text_set(f"crowdflower_{split}", "crowdflower", rows, dataset="crowdflower")


def load_xed(folder: str | Path, split: str) -> TextSet:
    """XED English subtitles: ``en-annotated.tsv`` (text, Plutchik ids) and ``neu_en.txt`` (9, text), split by
    text so that a repeated line never sits on both sides. Rows with several labels are left out (22 %)."""
    split, folder = check_split(split), Path(folder)
    rows = []
    with (folder / "en-annotated.tsv").open(encoding="utf-8") as f:
        for line in f:
            text, _, ids = line.rstrip("\n").rpartition("\t")
            codes = [c.strip() for c in ids.split(",")]
            if len(codes) == 1 and text.strip():
                rows.append((text, XED_CODES.get(codes[0], codes[0])))
    with (folder / "neu_en.txt").open(encoding="utf-8") as f:
        for line in f:
            code, _, text = line.rstrip("\n").partition("\t")
            text = text.strip()  # some lines end in tabs
            if text:
                rows.append((text, XED_CODES.get(code.strip(), code.strip())))
    chosen = [(t, label) for t, label in rows if split_of(" ".join(t.lower().split())) == split]
    return _text_set(f"xed_{split}", "xed", chosen, dataset="xed")


# Where each corpus' files sit under a data folder (the first that exists is read) and its reader.
_LAYOUT: dict[str, tuple[tuple[str, ...], str, Callable[[Path, str], TextSet]]] = {
    "dair": (("",), "dair_emotion/train.txt", load_dair),
    "goemotions": (("",), "goemotions/ekman/labels.txt", load_goemotions),
    "meld": (("MELD", "data/MELD", ""), "train_sent_emo.csv", load_meld),
    "crowdflower": (("",), "text_emotion.csv", load_crowdflower),
    "xed": (("AnnotatedData", ""), "en-annotated.tsv", load_xed),
}


def find_corpus(name: str, data_dirs: Sequence[str | Path]) -> Path:
    """The folder that the reader of corpus ``name`` is given: the first of ``data_dirs`` that holds it."""
    if name not in _LAYOUT:
        raise InvalidInputError(f"corpus: expected one of {', '.join(CORPORA)}, got {name!r}.")
    places, marker, _ = _LAYOUT[name]
    for data_dir in data_dirs:
        for place in places:
            if (Path(data_dir) / place / marker).is_file():
                return Path(data_dir) / place
    raise InvalidInputError(f"corpus {name}: {marker} not found under {', '.join(str(d) for d in data_dirs)}.")


def load_corpus(name: str, split: str, data_dirs: Sequence[str | Path]) -> TextSet:
    """Split ``split`` of corpus ``name`` (one of :data:`CORPORA`), found in ``data_dirs``."""
    folder = find_corpus(name, data_dirs)
    return _LAYOUT[name][2](folder, split)


def load_corpora(names: Sequence[str], split: str, data_dirs: Sequence[str | Path]) -> TextSet:
    """The same split of several corpora, one after the other."""
    sets = [load_corpus(name, split, data_dirs) for name in names]
    total = sets[0]
    for other in sets[1:]:
        total = total + other
    return total
