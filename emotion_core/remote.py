"""Ray for the core: connecting to a cluster (or starting one here), and running the API's long jobs on it.

``batch`` and ``serve --ray-address`` share :func:`start_ray`. With a cluster, ``serve`` sends video and multimodal
jobs to it through :class:`RayAnalyses`; requests answered at once (photos, texts, short recordings) stay in the
API process, where the models are already loaded. Ray is imported only when one of these is used.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from emotion_core.config import PROJECT_ROOT, Settings
from emotion_core.errors import EmotionLensError


def start_ray(address: str | None, *, num_cpus: int | None = None, object_store_mb: int = 200) -> bool:
    """Connect to the Ray cluster at ``address``, or start a new Ray instance on this machine when it is None.

    Workers find ``emotion_core`` through ``PYTHONPATH`` (this project's folder), so every node of a cluster
    needs the project at the same path. Returns False when Ray was running in this process already.
    """
    import ray

    if ray.is_initialized():
        return False
    env = {"env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                                     os.environ.get("PYTHONPATH")]))}}
    if address:
        check_reachable(address)
        try:
            ray.init(address=address, runtime_env=env, logging_level=logging.WARNING)
        except ConnectionError as exc:
            raise ClusterUnavailableError(f"--ray-address {address}: no Ray cluster there ({exc}).") from None
    else:
        ray.init(address="local",  # a new instance, never one that happens to run here already
                 num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
                 object_store_memory=object_store_mb * 2**20, runtime_env=env, logging_level=logging.WARNING)
    return True


class ClusterUnavailableError(EmotionLensError, ConnectionError):
    """The Ray cluster named by ``--ray-address`` cannot be reached."""


def check_reachable(address: str, *, timeout: float = 5.0) -> None:
    """Refuse a ``HOST:PORT`` nobody answers on at once: Ray itself would retry for minutes."""
    import socket

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "://" in address:
        return  # "auto", "ray://..." and the like: Ray resolves them itself
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ClusterUnavailableError(f"--ray-address {address}: nothing answers there ({exc.strerror or exc}); "
                                      "start the cluster with `ray start --head`, or leave --ray-address out to "
                                      "run on this machine.") from None


_worker_predictors: dict[tuple[str, str], Any] = {}


def _analyze(kind: str, settings: Settings, face_model: str, data: bytes, options: dict[str, Any]):
    """Runs on a Ray worker: the predictors are loaded once per worker process and kept."""
    from emotion_core.batch.archive import PredictorSet

    key = (str(settings.models_dir), face_model)
    if key not in _worker_predictors:
        _worker_predictors[key] = PredictorSet(models_dir=settings.models_dir, face_model=face_model,
                                               detector=settings.face_detector)
    predictors = _worker_predictors[key]
    if kind == "video":
        from emotion_core.face.video import analyze_video

        return analyze_video(data, predictors.get("video"), **options)
    from emotion_core.fusion.multimodal import analyze_multimodal

    return analyze_multimodal(data, face=predictors.get("video"), speech=predictors.get("audio"),
                              text=predictors.get("text"), **options)


class RayAnalyses:
    """Video and multimodal analyses on a Ray cluster, one CPU each.

    Parameters
    ----------
    address : str
        The cluster (``HOST:PORT``, ``auto``), or ``local`` for a Ray instance on this machine.
    settings : Settings
        Passed to the workers: where the models are, and the limits.
    """

    def __init__(self, address: str, *, settings: Settings):
        import ray

        start_ray(None if address == "local" else address)
        self.settings = settings
        self._task = ray.remote(num_cpus=1, max_retries=0)(_analyze)

    def run(self, kind: str, data: bytes, *, face_model: str, **options: Any):
        """``analyze_video`` (``kind="video"``) or ``analyze_multimodal`` on the cluster, with these options
        (no ``progress``: the job's progress jumps from 0 to done). Errors are raised here as they were there."""
        import ray

        if kind not in ("video", "multimodal"):
            raise ValueError(f"kind: expected video or multimodal, got {kind!r}")
        return ray.get(self._task.remote(kind, self.settings, face_model, data, options))
