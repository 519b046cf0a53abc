"""Choosing a face model by name: our CNN (default) or seed 002's hybrid, whichever cards are in ``models/``."""

from __future__ import annotations

from pathlib import Path

from emotion_core.face import FACE_MODEL, FacePredictor
from emotion_core.modelcard import list_cards, load_card


def face_models(models_dir: str | Path) -> dict[str, str]:
    """Face-expression models present, file stem -> a label for menus (ours first)."""
    found = {c["name"]: f"{c['model_id']}" for c in list_cards(models_dir) if c.get("modality") == "face"
             and c.get("task") == "facial expression recognition"}
    return dict(sorted(found.items(), key=lambda item: item[0] != FACE_MODEL))


def load_face_predictor(models_dir: str | Path, *, model: str = FACE_MODEL, detector="blazeface") -> FacePredictor:
    """The named face model with the named (or given) detector."""
    from emotion_core.hybrid import HybridFacePredictor

    if load_card(models_dir, model).get("inference", {}).get("kind") == "hybrid":
        return HybridFacePredictor.from_dir(models_dir, model=model, detector=detector)
    return FacePredictor.from_dir(models_dir, model=model, detector=detector)
