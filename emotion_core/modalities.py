"""The modalities Emotion Lens recognises, in one place: what fusion, charts, alerts, the OpenAPI document and the
pages need to know about each.

A new modality is one more entry in :data:`MODALITIES` (and its predictor, see ``docs/architecture.md``); code
that handles "every modality" iterates this registry when it runs, never a list of names of its own. Results of
fusion carry the modality :data:`FUSED`, which is not a modality of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FUSED = "fused"
"""The modality of a fused result."""


@dataclass(frozen=True)
class Modality:
    """One kind of input that a predictor reads.

    Parameters
    ----------
    name : str
        As in :attr:`EmotionResult.modality <emotion_core.result.EmotionResult.modality>`, stored rows and JSON
        (at most 10 characters: the history table's column).
    colour : str
        Its colour in charts that compare modalities (hex).
    model : str, optional
        File stem of the model whose card weighs this modality in fusion; ``None`` when there is none.
    reliability : tuple of str, default=()
        The keys, one inside the other, of the figure in that card that fusion uses as the modality's weight.
    reliability_note : str, default=""
        What that figure is, in a few words, for people choosing weights.
    """

    name: str
    colour: str
    model: str | None = None
    reliability: tuple[str, ...] = ()
    reliability_note: str = ""

    def measured_reliability(self, card: Mapping[str, Any]) -> float | None:
        """The figure at :attr:`reliability` in ``card``, or None when the card does not have it."""
        value: Any = card
        for key in self.reliability:
            if not isinstance(value, Mapping) or key not in value:
                return None
            value = value[key]
        return float(value) if self.reliability and isinstance(value, (int, float)) else None


MODALITIES: dict[str, Modality] = {m.name: m for m in (
    Modality("face", colour="#1f77b4", model="face_expression", reliability=("metrics", "PublicTest", "accuracy"),
             reliability_note="FER-2013 PublicTest accuracy"),
    Modality("speech", colour="#ff7f0e", model="speech_emotion", reliability=("training", "held_out_mean_uar"),
             reliability_note="mean validation UAR"),
    Modality("text", colour="#2ca02c", model="text_emotion",
             reliability=("validation", "selection_score"),
             reliability_note="validation score: dair-ai accuracy and GoEmotions macro-F1, averaged"),
)}
"""Every modality, by name, in the order charts and tables show them."""


def result_modalities() -> tuple[str, ...]:
    """The modalities a result may carry: every registered one, and :data:`FUSED`."""
    return (*MODALITIES, FUSED)
