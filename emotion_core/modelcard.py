"""Model cards: the JSON file beside each shipped model that says what it is, how it was trained and measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emotion_core.errors import ModelUnavailableError

CARD_SUFFIX = ".card.json"


def card_path(models_dir: str | Path, name: str) -> Path:
    """Path of the card of model ``name`` (the file stem shared with its weights)."""
    return Path(models_dir) / f"{name}{CARD_SUFFIX}"


def load_card(models_dir: str | Path, name: str) -> dict[str, Any]:
    """Read a model card.

    Raises
    ------
    ModelUnavailableError
        If the card is missing or is not valid JSON.
    """
    path = card_path(models_dir, name)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelUnavailableError(f"model card {path} is missing.") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelUnavailableError(f"model card {path} cannot be read: {exc}") from None


def write_card(models_dir: str | Path, name: str, card: dict[str, Any]) -> Path:
    """Write a model card (pretty-printed, keys in the order given)."""
    path = card_path(models_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def list_cards(models_dir: str | Path) -> list[dict[str, Any]]:
    """Every card in ``models_dir``, sorted by file name, each with its ``name`` (file stem) added."""
    cards = []
    for path in sorted(Path(models_dir).glob(f"*{CARD_SUFFIX}")):
        name = path.name[: -len(CARD_SUFFIX)]
        cards.append({"name": name, **load_card(models_dir, name)})
    return cards


def load_benchmark(benchmarks_dir: str | Path, name: str) -> dict[str, Any] | None:
    """A committed benchmark result (``benchmarks/results/<name>.json``), or None when it has not been run."""
    path = Path(benchmarks_dir) / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
