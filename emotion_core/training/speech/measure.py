"""Test figures of an exported speech model on each corpus' test speakers, measured through
:class:`~emotion_core.speech.predictor.SpeechPredictor` exactly as ``evaluate speech`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emotion_core.speech.corpora import SpeechClip


@dataclass(frozen=True)
class TestFiles:
    """One corpus' test files as ``evaluate speech --corpus`` reads them."""

    paths: list[Path]
    labels: list[str]
    speakers: list[str]
    skipped: list[dict[str, str]]


def test_files_of(clips: Sequence[SpeechClip], corpus: str) -> TestFiles:
    chosen = [c for c in clips if c.split == "test" and c.corpus == corpus]
    scored = [c for c in chosen if c.label]
    return TestFiles([c.path for c in scored], [c.label for c in scored], [c.speaker for c in scored],
                     [{"path": str(c.path), "reason": f"label {c.raw_label!r} has no canonical counterpart"}
                      for c in chosen if c.label is None])


def test_reports(model_path: Path, model_id: str, model_input, tests: dict[str, TestFiles], *,
                  calibration_recordings: int | None = None, speaker_centred: bool = False) -> dict[str, Any]:
    """The model file measured on each corpus' test speakers, as `evaluate speech --corpus` measures it (the
    calibrated model with profiles from each speaker's other test files, all or ``calibration_recordings``)."""
    from emotion_core.evaluation import evaluate_speech
    from emotion_core.runtime import load_onnx_session
    from emotion_core.speech.predictor import SpeechPredictor

    predictor = SpeechPredictor(session=load_onnx_session(model_path), model_id=model_id, model_input=model_input,
                                speaker_centred=speaker_centred)
    return {f"{corpus}_test": evaluate_speech(files.paths, files.labels, predictor, skipped=files.skipped,
                                              speakers=files.speakers if speaker_centred else None,
                                              calibration_recordings=calibration_recordings, progress=True)
            for corpus, files in tests.items()}


def summary_figures(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in ("n", "accuracy", "macro_f1", "uar")}
