"""Labelled folders: ``DIR/<label>/<file>``, the layout of FER-2013 and of most people's own test sets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from emotion_core.errors import InvalidInputError
from emotion_core.labels import UnknownLabelError, to_canonical


@dataclass
class LabelledFiles:
    """Files with their canonical labels, and what was left out with the reason."""

    paths: list[Path] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def find_labelled_files(root: str | Path, *, suffixes: Iterable[str], prefix: str | None = None,
                        dataset: str | None = None) -> LabelledFiles:
    """Every file under ``root`` whose parent folder names its label.

    Folders may sit at any depth, so both ``DIR/happy/x.jpg`` and FER-2013's ``fer2013/test/happy/x.jpg``
    work. Folders whose name is no known label are reported in ``skipped``, never merged.

    Parameters
    ----------
    root : str or Path
        Folder to search.
    suffixes : iterable of str
        File extensions to keep, lower case with the dot (``".jpg"``).
    prefix : str, optional
        Keep only files whose name starts with it (FER-2013's ``Training``, ``PublicTest``, ``PrivateTest``).
    dataset : str, optional
        Label table to use (see :data:`emotion_core.labels.DATASET_LABELS`).

    Raises
    ------
    InvalidInputError
        If ``root`` is not a folder or holds no matching file.
    """
    root = Path(root)
    if not root.is_dir():
        raise InvalidInputError(f"data: {root} is not a folder.")
    suffixes = {s.lower() for s in suffixes}
    found = LabelledFiles()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes):
        if prefix and not path.name.startswith(prefix):
            continue
        try:
            label = to_canonical(path.parent.name, dataset=dataset)
        except UnknownLabelError:
            found.skipped.append({"path": str(path), "reason": f"unknown label {path.parent.name!r}"})
            continue
        found.paths.append(path)
        found.labels.append(label)
    if not found.paths and not found.skipped:
        what = f" starting with {prefix!r}" if prefix else ""
        raise InvalidInputError(
            f"data: no {'/'.join(sorted(suffixes))} files{what} in label folders under {root}."
        )
    return found
