"""Progress bars that stay readable in a terminal and in a log file."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], *, desc: str, unit: str = "item", total: int | None = None) -> Iterator[T]:
    """Wrap ``items`` in a tqdm bar on stderr: live in a terminal, a line every 30 s in a log."""
    from tqdm import tqdm

    interactive = sys.stderr.isatty()
    yield from tqdm(items, desc=desc, unit=unit, total=total, mininterval=0.1 if interactive else 30,
                    dynamic_ncols=interactive)
