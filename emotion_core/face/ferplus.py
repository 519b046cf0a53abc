"""FER+ (Barsoum et al., 2016): ten crowd votes for each FER-2013 image, matched to FER-2013's files by their pixels.

FER+ publishes its images as ``data/FER2013{Train,Valid,Test}/ferNNNNNNN.png`` with the votes in each folder's
``label.csv`` (file, box, then neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF:
"not a face"). FER+ left out the images whose ten voters all said "not a face" (a blank frame, an icon, a
drawing), so a FER-2013 image with no FER+ counterpart is not a face either. The shared FER-2013 files are JPEGs
with other names, so each is matched to the FER+ image with the nearest pixels: a JPEG differs from its PNG by
about 2 grey levels (root mean square), from any other image by 20 or more.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emotion_core.datasets import LabelledFiles
from emotion_core.labels import DATASET_LABELS, EMOTIONS

VOTES = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF")

SAME_IMAGE_RMS = 8.0
"""Grey levels (root mean square, on 24 x 24 px) below which a FER-2013 file and a FER+ image are the same picture;
JPEG's loss is about 2, the nearest other picture 20 or more (FER-2013 PrivateTest against all of FER+)."""

_SIDE = 24


def _pixels(paths: Sequence[Path]) -> np.ndarray:
    import cv2

    return np.stack([cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), (_SIDE, _SIDE),
                                interpolation=cv2.INTER_AREA).astype(np.float32).ravel() for path in paths])


def read_ferplus(ferplus_dir: str | Path) -> tuple[list[Path], np.ndarray]:
    """Every FER+ image under ``ferplus_dir`` (any depth) with its ten vote counts, from each folder's
    ``label.csv``."""
    images, votes = [], []
    for labels in sorted(Path(ferplus_dir).rglob("label.csv")):
        with labels.open(newline="") as handle:
            for row in csv.reader(handle):
                if len(row) == 2 + len(VOTES):
                    images.append(labels.parent / row[0])
                    votes.append([int(value) for value in row[2:]])
    if not images:
        raise FileNotFoundError(f"no FER+ label.csv with votes under {ferplus_dir}")
    return images, np.array(votes, dtype=np.int32)


def ferplus_votes(fer_files: Sequence[Path], ferplus_dir: str | Path, *, chunk: int = 2048) -> list[np.ndarray | None]:
    """FER+'s ten vote counts for each FER-2013 file (in :data:`VOTES` order), or ``None`` where FER+ holds no
    such picture: one its voters all called not a face."""
    images, votes = read_ferplus(ferplus_dir)
    library = _pixels(images)
    library_norms = (library ** 2).sum(axis=1)
    out: list[np.ndarray | None] = []
    for start in range(0, len(fer_files), chunk):
        queries = _pixels(fer_files[start:start + chunk])
        distances = (queries ** 2).sum(axis=1)[:, None] + library_norms[None] - 2 * queries @ library.T
        nearest = distances.argmin(axis=1)
        rms = np.sqrt(np.maximum(distances[np.arange(len(queries)), nearest], 0) / library.shape[1])
        out += [votes[index] if error < SAME_IMAGE_RMS else None for index, error in zip(nearest, rms)]
    return out


def is_face(votes: np.ndarray | None) -> bool:
    """Whether FER+'s voters took the picture for a face: it is in FER+ and fewer than half said "not a face"."""
    return votes is not None and votes[VOTES.index("NF")] * 2 < votes.sum()


def vote_shares(votes: np.ndarray | None) -> np.ndarray | None:
    """Each canonical emotion's share of the votes given to one (in :data:`~emotion_core.labels.EMOTIONS` order),
    or ``None`` for a picture FER+ does not take for a face or whose voters named no canonical emotion."""
    if not is_face(votes):
        return None
    shares = np.zeros(len(EMOTIONS), dtype=np.float32)
    for vote, count in zip(VOTES, votes):
        emotion = DATASET_LABELS["ferplus"].get(vote)
        if emotion is not None:
            shares[EMOTIONS.index(emotion)] += count
    return shares / shares.sum() if shares.sum() else None


def majority_label(votes: np.ndarray | None) -> str | None:
    """The canonical emotion that more than half of FER+'s voters gave the picture, or ``None`` (no majority, or
    one for contempt, unknown or not a face)."""
    if votes is None or votes.max() * 2 <= votes.sum():
        return None
    return DATASET_LABELS["ferplus"].get(VOTES[int(votes.argmax())])


def relabelled_by_majority(files: LabelledFiles, ferplus_dir: str | Path) -> LabelledFiles:
    """``files`` (FER-2013 pictures) labelled by FER+'s majority instead of FER-2013's label; pictures without one
    move to ``skipped`` with the reason."""
    out = LabelledFiles(skipped=list(files.skipped))
    for path, votes in zip(files.paths, ferplus_votes(files.paths, ferplus_dir)):
        label = majority_label(votes)
        if label is not None:
            out.paths.append(path)
            out.labels.append(label)
        else:
            reason = "not a face" if not is_face(votes) else "no majority emotion"
            out.skipped.append({"path": str(path), "reason": f"FER+: {reason}"})
    return out
