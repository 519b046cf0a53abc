"""Timed transcripts: SubRip (.srt) and WebVTT (.vtt) cues."""

from __future__ import annotations

import re
from dataclasses import dataclass

from emotion_core.errors import InvalidInputError

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
_CUE_TIMES = re.compile(_TIME + r"\s*-->\s*" + _TIME)
_TAGS = re.compile(r"<[^>]+>|\{\\[^}]*\}")


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str


def _seconds(hours: str | None, minutes: str, seconds: str, fraction: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(fraction.ljust(3, "0")) / 1000


def parse_cues(text: str, *, name: str = "transcript") -> list[Cue]:
    """Cues of an SRT or WebVTT file (formatting tags removed, multi-line cues joined).

    Raises
    ------
    InvalidInputError
        If no cue with valid times is found.
    """
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line.strip() for line in block.strip().split("\n")]
        for i, line in enumerate(lines):
            match = _CUE_TIMES.search(line)
            if match:
                start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
                words = _TAGS.sub("", " ".join(lines[i + 1:])).strip()
                if words and end > start:
                    cues.append(Cue(start, end, words))
                break
    if not cues:
        raise InvalidInputError(f"{name}: no timed cues found; expected SubRip (.srt) or WebVTT (.vtt).")
    return sorted(cues, key=lambda c: c.start_s)
