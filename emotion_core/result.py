"""One result type for every modality."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from emotion_core.labels import EMOTIONS
from emotion_core.modalities import result_modalities


def score_column(label: str) -> str:
    """The row, CSV and database column that holds one label's probability (``p_<label>``): the one place where
    that spelling lives."""
    return f"p_{label}"


SCORE_COLUMNS = tuple(score_column(label) for label in EMOTIONS)
"""Every label's probability column, in :data:`EMOTIONS` order."""

BOX_COLUMNS = ("box_x", "box_y", "box_w", "box_h")


def score_columns(scores: Mapping[str, float | None]) -> dict[str, float | None]:
    """A label-to-probability mapping spelled as row columns (``None`` where a label has no score)."""
    return {score_column(label): scores.get(label) for label in EMOTIONS}


def scores_from_row(row: Mapping[str, Any]) -> dict[str, float | None]:
    """Inverse of :func:`score_columns`: the probabilities a row, a record or a CSV line holds."""
    return {label: row.get(score_column(label)) for label in EMOTIONS}


@dataclass(frozen=True)
class EmotionResult:
    """What a model says about one face, speech segment, text or fused window.

    Parameters
    ----------
    modality : str
        A registered modality (:data:`~emotion_core.modalities.MODALITIES`: face, speech, text), or ``"fused"``.
    scores : mapping of str to float
        One probability per label of :data:`~emotion_core.labels.EMOTIONS`, summing to 1.
    model_id : str
        Which model produced the scores (its card's ``model_id``).
    latency_ms : float
        Time the model took for this item, in milliseconds.
    box : (x, y, width, height), optional
        Face box in pixels of the analysed image.
    landmarks : mapping of str to (x, y), optional
        The face detector's keypoints in pixels (eyes, nose, mouth, ears).
    detector_score : float, optional
        The face detector's confidence; ``None`` for detectors that give none (Haar).
    span : (start, end), optional
        Time span in seconds, for speech segments, text cues and fused windows.
    frame : int, optional
        Index of the video or live frame a face was seen in.
    track_id : int, optional
        The face track (one person followed across frames) a face belongs to.
    uncertain : str, optional
        Why this result should not be trusted (its confidence is low, the input lies far from what the model
        learnt, the face is tiny or blurred); ``None`` when nothing is known against it.
    """

    modality: str
    scores: Mapping[str, float]
    model_id: str
    latency_ms: float = 0.0
    box: tuple[int, int, int, int] | None = None
    landmarks: Mapping[str, tuple[float, float]] | None = None
    detector_score: float | None = None
    span: tuple[float, float] | None = None
    frame: int | None = None
    track_id: int | None = None
    uncertain: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.modality not in result_modalities():
            raise ValueError(f"modality must be one of {result_modalities()}, got {self.modality!r}")
        if set(self.scores) != set(EMOTIONS):
            raise ValueError(f"scores must have exactly the labels {EMOTIONS}, got {sorted(self.scores)}")
        total = math.fsum(self.scores.values())
        if not math.isclose(total, 1.0, abs_tol=1e-3):
            raise ValueError(f"scores must sum to 1, got {total:.4f}")
        if self.uncertain is not None and not self.uncertain.strip():
            raise ValueError("uncertain must name a reason, or be None")
        # Keep the canonical order whatever order the caller used.
        object.__setattr__(self, "scores", {k: float(self.scores[k]) for k in EMOTIONS})

    @classmethod
    def from_probabilities(cls, probabilities: Sequence[float], **fields: Any) -> EmotionResult:
        """Build a result from a probability vector in :data:`EMOTIONS` order."""
        if len(probabilities) != len(EMOTIONS):
            raise ValueError(f"expected {len(EMOTIONS)} probabilities, got {len(probabilities)}")
        return cls(scores=dict(zip(EMOTIONS, map(float, probabilities))), **fields)

    @property
    def label(self) -> str:
        """The most probable canonical label."""
        return max(self.scores, key=self.scores.__getitem__)

    @property
    def confidence(self) -> float:
        """Probability of :attr:`label`."""
        return self.scores[self.label]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the fields plus the derived ``label`` and ``confidence``."""
        data: dict[str, Any] = {
            "modality": self.modality,
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "scores": {k: round(v, 6) for k, v in self.scores.items()},
            "model_id": self.model_id,
            "latency_ms": round(self.latency_ms, 3),
        }
        if self.box is not None:
            data["box"] = list(self.box)
        if self.landmarks is not None:
            data["landmarks"] = {k: [round(x, 1), round(y, 1)] for k, (x, y) in self.landmarks.items()}
        if self.detector_score is not None:
            data["detector_score"] = round(self.detector_score, 4)
        if self.span is not None:
            data["span"] = [round(self.span[0], 3), round(self.span[1], 3)]
        data.update({key: value for key, value in (("frame", self.frame), ("track_id", self.track_id))
                     if value is not None})
        data["uncertain"] = self.uncertain is not None
        if self.uncertain is not None:
            data["uncertain_reason"] = self.uncertain
        if self.extra:
            data["extra"] = dict(self.extra)
        return data

    def to_row(self) -> dict[str, Any]:
        """Flat dict for a pandas row or a CSV line: one column per score, box and span split out."""
        row: dict[str, Any] = {
            "modality": self.modality,
            "label": self.label,
            "confidence": self.confidence,
            "model_id": self.model_id,
            "latency_ms": self.latency_ms,
        }
        row.update(score_columns(self.scores))
        if self.box is not None:
            row.update(dict(zip(BOX_COLUMNS, self.box)))
        if self.detector_score is not None:
            row["detector_score"] = self.detector_score
        if self.span is not None:
            row["start_s"], row["end_s"] = self.span
        row["uncertain"] = self.uncertain is not None
        row["uncertain_reason"] = self.uncertain
        row.update({key: value for key, value in (("frame", self.frame), ("track_id", self.track_id))
                    if value is not None})
        row.update({k: v for k, v in self.extra.items() if isinstance(v, (str, int, float, bool))})
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EmotionResult:
        """Inverse of :meth:`to_row` for the result's own fields (``extra`` flattened into a row cannot be told
        from other columns, so it is not read back). Missing values may be ``None`` or NaN, as pandas gives them."""
        def given(column: str) -> Any:
            value = row.get(column)
            return None if value is None or value != value else value

        box = tuple(int(given(c)) for c in BOX_COLUMNS) if given("box_x") is not None else None
        span = (float(given("start_s")), float(given("end_s"))) if given("start_s") is not None else None
        frame, track_id, reason = given("frame"), given("track_id"), given("uncertain_reason")
        return cls(modality=row["modality"], scores=scores_from_row(row), model_id=row["model_id"],
                   latency_ms=float(given("latency_ms") or 0.0), box=box, detector_score=given("detector_score"),
                   span=span, frame=None if frame is None else int(frame),
                   track_id=None if track_id is None else int(track_id),
                   uncertain=reason if isinstance(reason, str) and reason.strip() else None)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmotionResult:
        """Inverse of :meth:`to_dict` (derived keys are ignored)."""
        landmarks = data.get("landmarks")
        return cls(
            modality=data["modality"],
            scores=data["scores"],
            model_id=data["model_id"],
            latency_ms=float(data.get("latency_ms", 0.0)),
            box=tuple(data["box"]) if data.get("box") is not None else None,
            landmarks={k: (float(x), float(y)) for k, (x, y) in landmarks.items()} if landmarks else None,
            detector_score=data.get("detector_score"),
            span=tuple(data["span"]) if data.get("span") is not None else None,
            frame=data.get("frame"),
            track_id=data.get("track_id"),
            uncertain=data.get("uncertain_reason"),
            extra=data.get("extra", {}),
        )
