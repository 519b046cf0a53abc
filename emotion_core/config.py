"""Settings with built-in defaults, overridable by ``EMOTION_LENS_*`` environment variables.

Settings are always passed explicitly; nothing in the core reads the environment except
:meth:`Settings.from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_home() -> Path:
    return Path.home() / ".emotion_lens"


@dataclass(frozen=True)
class Settings:
    """Where things live and how big inputs may be.

    Parameters
    ----------
    models_dir : Path
        Folder with the shipped models and their cards.
    home : Path
        Per-user state (database, opted-in media): ``EMOTION_LENS_HOME``.
    data_dir : Path
        Labelled data sets for training and evaluation: ``EMOTION_DATA_DIR``.
    face_detector : str
        Default face detector name (see :func:`emotion_core.detection.available_detectors`).
    max_upload_bytes : int
        Largest file accepted from an upload.
    max_image_pixels : int
        Largest image (width x height) decoded; bigger ones are refused before decoding.
    """

    models_dir: Path = PROJECT_ROOT / "models"
    home: Path = _default_home()
    data_dir: Path = PROJECT_ROOT.parent / "shared" / "data"
    face_detector: str = "blazeface"
    max_upload_bytes: int = 200 * 1024 * 1024
    max_image_pixels: int = 50_000_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults, overridden by ``EMOTION_LENS_<FIELD>`` (and ``EMOTION_DATA_DIR``) variables."""
        environ = os.environ if environ is None else environ
        changes: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(f"EMOTION_LENS_{f.name.upper()}")
            if raw is None and f.name == "data_dir":
                raw = environ.get("EMOTION_DATA_DIR")
            if raw is None:
                continue
            default = getattr(cls, f.name)
            changes[f.name] = Path(raw).expanduser() if isinstance(default, Path) else type(default)(raw)
        return replace(cls(), **changes)
