"""Settings with built-in defaults, overridable by ``EMOTION_LENS_*`` environment variables.

Settings are always passed explicitly; nothing in the core reads the environment except
:meth:`Settings.from_env`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from emotion_core.errors import InvalidInputError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# Settings that also answer to the names other tools use.
_SHARED_NAMES = {"data_dir": "EMOTION_DATA_DIR", "database_url": "DATABASE_URL"}


def _default_home() -> Path:
    return Path.home() / ".emotion_lens"


@dataclass(frozen=True)
class Settings:
    """Where things live and how big inputs may be.

    Parameters
    ----------
    models_dir : Path
        Folder with the shipped models and their cards.
    benchmarks_dir : Path
        Committed benchmark figures (``benchmarks/results``), shown on the Models page.
    home : Path
        Per-user state (database, opted-in media): ``EMOTION_LENS_HOME``.
    data_dir : Path
        Labelled data sets for training and evaluation: ``EMOTION_DATA_DIR``.
    face_detector : str
        Default face detector for video and live frames (see :func:`emotion_core.face.detection.available_detectors`),
        where each frame's cost counts.
    photo_detector : str
        Default face detector for photos: MTCNN finds small faces and leaves more empty scenes empty than
        BlazeFace, at a few times its cost (``benchmarks/results/detection_mtcnn.json``).
    max_upload_bytes : int
        Largest file accepted from an upload.
    max_image_pixels : int
        Largest image (width x height) decoded; bigger ones are refused before decoding.
    max_audio_seconds : float
        Longest recording analysed (from its header, before decoding where possible).
    max_sync_audio_seconds : float
        Longest recording the API analyses within the request; longer ones (up to ``max_audio_seconds``) are
        sent with ``job=true`` and analysed as a job, so a request never holds a server thread for long.
    max_calibration_seconds : float
        Most sound, all recordings together, used to calibrate the speech model to a speaker.
    max_video_seconds : float
        Longest video the API queues (from its header; a video without a stated duration is bounded by size).
    max_jobs_per_user : int
        How many API jobs (videos, multimodal runs) one user may have queued or running at once.
    database_url : str
        SQLAlchemy URL of the history database (``DATABASE_URL``); empty means a SQLite file in ``home``.
    ray_address : str
        A Ray cluster (``HOST:PORT``) on which the API runs its video and multimodal jobs
        (``EMOTION_LENS_RAY_ADDRESS``, or ``serve --ray-address``); empty runs them in the API process.
    ice_servers : str
        JSON list of WebRTC ICE servers for the live page, e.g.
        ``[{"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "p"}]``. Empty by default:
        on one machine or a LAN the browser and the server connect directly, and no STUN server is contacted.
    """

    models_dir: Path = PROJECT_ROOT / "models"
    benchmarks_dir: Path = PROJECT_ROOT / "benchmarks" / "results"
    home: Path = _default_home()
    data_dir: Path = PROJECT_ROOT.parent / "shared" / "data"
    face_detector: str = "blazeface"
    photo_detector: str = "mtcnn"
    max_upload_bytes: int = 200 * 1024 * 1024
    max_image_pixels: int = 50_000_000
    max_audio_seconds: float = 20 * 60
    max_sync_audio_seconds: float = 5 * 60
    max_calibration_seconds: float = 5 * 60
    max_video_seconds: float = 10 * 60
    max_jobs_per_user: int = 3
    database_url: str = ""
    ice_servers: str = "[]"
    open_registration: bool = False  # anyone who reaches the app may create a viewer account
    ray_address: str = ""  # serve: run video and multimodal jobs on this Ray cluster ("local": Ray on this machine)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults, overridden by ``EMOTION_LENS_<FIELD>`` (and ``EMOTION_DATA_DIR``) variables."""
        environ = os.environ if environ is None else environ
        changes: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(f"EMOTION_LENS_{f.name.upper()}")
            if raw is None and f.name in _SHARED_NAMES:
                raw = environ.get(_SHARED_NAMES[f.name])
            if raw is None:
                continue
            default = getattr(cls, f.name)
            if isinstance(default, bool):
                changes[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            else:
                changes[f.name] = Path(raw).expanduser() if isinstance(default, Path) else type(default)(raw)
        return replace(cls(), **changes)

    def rtc_configuration(self) -> dict[str, list[dict]]:
        """The WebRTC configuration for the live page, from :attr:`ice_servers`.

        Raises
        ------
        InvalidInputError
            If ``EMOTION_LENS_ICE_SERVERS`` is not a JSON list of objects with ``urls``.
        """
        try:
            servers = json.loads(self.ice_servers)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"EMOTION_LENS_ICE_SERVERS: expected a JSON list, got invalid JSON ({exc})."
            ) from None
        if not isinstance(servers, list) or not all(isinstance(s, dict) and "urls" in s for s in servers):
            raise InvalidInputError("EMOTION_LENS_ICE_SERVERS: expected a JSON list of objects with \"urls\".")
        return {"iceServers": servers}

    @property
    def sqlalchemy_url(self) -> str:
        """:attr:`database_url`, or the SQLite file ``home/emotion_lens.db``."""
        return self.database_url or f"sqlite:///{self.home / 'emotion_lens.db'}"

    @property
    def media_dir(self) -> Path:
        """Where media that users chose to keep are stored."""
        return self.home / "media"
