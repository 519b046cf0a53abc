"""Train and compare speech-emotion models on RAVDESS and EmoDB, speaker-independently.

Every clip's speaker is in exactly one of train, validation and test (:data:`SPLIT`). Two models are compared
on the same test speakers: a 1-D CNN over MFCC frames (the seed's deep model) and a classical baseline, an SVM
on utterance-level statistics of the same features. The better one on validation is exported and shipped;
both sets of figures go into the model card.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.errors import InvalidInputError
from emotion_core.labels import EMODB_EMOTION_CODES, EMOTIONS, RAVDESS_EMOTION_CODES, UnknownLabelError, to_canonical

# Fixed speaker-independent split, by the corpora's own speaker ids. RAVDESS: odd actors are male.
# EmoDB speakers 03, 10, 11, 12, 15 are male and 08, 09, 13, 14, 16 female.
SPLIT: dict[str, dict[str, tuple[str, ...]]] = {
    "test": {"ravdess": ("21", "22", "23", "24"), "emodb": ("15", "16")},
    "validation": {"ravdess": ("19", "20"), "emodb": ("12", "14")},
}

_RAVDESS_NAME = re.compile(r"^03-01-(\d\d)-\d\d-\d\d-\d\d-(\d\d)$")
_EMODB_NAME = re.compile(r"^(\d\d)[a-z]\d\d([A-Z])[a-z]$")


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


def corpus_clips(data_dir: str | Path) -> list[SpeechClip]:
    """Every RAVDESS and EmoDB clip under ``data_dir`` (``ravdess/Actor_NN/*.flac``, ``emodb/*.flac``)."""
    data_dir = Path(data_dir)
    clips = []
    for path in sorted(data_dir.glob("ravdess/Actor_*/*")):
        match = _RAVDESS_NAME.match(path.stem)
        if match:
            clips.append(_clip(path, "ravdess", match.group(2), RAVDESS_EMOTION_CODES[match.group(1)]))
    for path in sorted(data_dir.glob("emodb/*")):
        match = _EMODB_NAME.match(path.stem)
        if match:
            clips.append(_clip(path, "emodb", match.group(1), EMODB_EMOTION_CODES[match.group(2)]))
    if not clips:
        raise InvalidInputError(f"data: no RAVDESS or EmoDB clips under {data_dir}.")
    return clips


def _clip(path: Path, corpus: str, speaker: str, raw_label: str) -> SpeechClip:
    try:
        label = to_canonical(raw_label, dataset=corpus)
    except UnknownLabelError:
        label = None
    return SpeechClip(path=path, corpus=corpus, speaker=speaker, raw_label=raw_label, label=label)


def clip_features(clips: Sequence[SpeechClip], *, cache: Path | None = None) -> list[np.ndarray]:
    """MFCC features of each clip's voiced part (first to last voiced segment), cached when asked."""
    from emotion_core.audio import decode_audio
    from emotion_core.progress import progress
    from emotion_core.speech import HOP, mfcc_features, voiced_segments

    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as stored:
            if list(stored["paths"]) == [str(c.path) for c in clips]:
                return np.split(stored["frames"], stored["offsets"][1:-1])
    features = []
    for clip in progress(clips, desc="features", unit="clip"):
        samples = decode_audio(clip.path, name=clip.path.name).samples
        segments = voiced_segments(samples)
        if segments:
            samples = samples[int(segments[0].start_s * 16000):int(segments[-1].end_s * 16000) + HOP]
        features.append(mfcc_features(samples))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        offsets = np.cumsum([0] + [len(f) for f in features])
        np.savez(cache, paths=np.array([str(c.path) for c in clips]), frames=np.concatenate(features),
                 offsets=offsets)
    return features


def utterance_statistics(frames: np.ndarray) -> np.ndarray:
    """Fixed-length summary of a clip for the classical baseline: mean, std and 10/50/90th percentiles."""
    return np.concatenate([frames.mean(0), frames.std(0), *np.percentile(frames, [10, 50, 90], axis=0)])


def uar(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    from emotion_core.evaluation import classification_report

    return classification_report(y_true, y_pred)["uar"]


def labelled(clips: Sequence[SpeechClip], features: Sequence[np.ndarray], *, split: str | None = None,
             corpus: str | None = None) -> tuple[list[np.ndarray], list[str]]:
    """Features and canonical labels of the clips in one split and/or corpus (clips without a label left out)."""
    chosen = [(f, c.label) for c, f in zip(clips, features)
              if c.label is not None and (split is None or c.split == split) and (corpus is None or c.corpus == corpus)]
    return [f for f, _ in chosen], [label for _, label in chosen]


def split_summary(clips: Sequence[SpeechClip]) -> dict[str, Any]:
    """Speakers and clip counts per split and corpus, for the model card."""
    summary: dict[str, Any] = {}
    for split in ("train", "validation", "test"):
        for corpus in ("ravdess", "emodb"):
            chosen = [c for c in clips if c.split == split and c.corpus == corpus]
            summary.setdefault(split, {})[corpus] = {
                "speakers": sorted({c.speaker for c in chosen}),
                "clips": sum(c.label is not None for c in chosen),
                "left_out": {raw: sum(c.raw_label == raw for c in chosen) for raw in
                             sorted({c.raw_label for c in chosen if c.label is None})},
            }
    return summary


LABEL_INDEX = {label: i for i, label in enumerate(EMOTIONS)}
