import pytest

from emotion_core.errors import InvalidInputError
from emotion_core.text.subtitles import parse_cues

SRT = """1
00:00:01,000 --> 00:00:03,500
Hello <i>there</i>!

2
00:00:04,000 --> 00:00:06,250
I am so angry
with you.
"""

VTT = """WEBVTT

00:01.000 --> 00:03.000 align:start
Happy days

NOTE this is a comment

intro
01:00:05.500 --> 01:00:07.000
Sad now
"""


def test_srt():
    cues = parse_cues(SRT)
    assert [(c.start_s, c.end_s, c.text) for c in cues] == [(1.0, 3.5, "Hello there!"),
                                                              (4.0, 6.25, "I am so angry with you.")]


def test_vtt_with_settings_identifiers_notes_and_hours():
    cues = parse_cues(VTT)
    assert [(c.start_s, c.end_s, c.text) for c in cues] == [(1.0, 3.0, "Happy days"), (3605.5, 3607.0, "Sad now")]


def test_no_cues():
    with pytest.raises(InvalidInputError, match="no timed cues"):
        parse_cues("just some words\nwithout times")
