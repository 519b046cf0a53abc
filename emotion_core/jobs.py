"""Background jobs for analyses too long for one HTTP request (videos): submit, poll, read the result."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emotion_core.db import utcnow
from emotion_core.errors import EmotionLensError, NotFound

logger = logging.getLogger(__name__)


@dataclass
class Job:
    """One queued or finished analysis. ``result`` and ``error`` are JSON-ready."""

    id: str
    user_id: int
    kind: str
    status: str = "queued"  # queued, running, done, failed
    progress: float = 0.0
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    created_at: datetime = field(default_factory=utcnow)

    def to_dict(self) -> dict[str, Any]:
        data = {"job_id": self.id, "kind": self.kind, "status": self.status, "progress": round(self.progress, 3),
                "created_at": self.created_at.isoformat()}
        if self.result is not None:
            data["result"] = self.result
        if self.error is not None:
            data["error"] = self.error
        return data


class JobRunner:
    """Runs jobs one at a time (an analysis already uses every core) and keeps the last ``keep`` of them."""

    def __init__(self, *, workers: int = 1, keep: int = 200):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emotion-lens-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self.keep = keep

    def submit(self, work: Callable[[Callable[[float], None]], dict[str, Any]], *, user_id: int, kind: str) -> Job:
        """Queue ``work(progress)``; it returns the result, or raises an :class:`EmotionLensError`."""
        job = Job(id=uuid.uuid4().hex, user_id=user_id, kind=kind)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job, work)
        return job

    @staticmethod
    def _run(job: Job, work: Callable[[Callable[[float], None]], dict[str, Any]]) -> None:
        job.status = "running"

        def progress(done: float) -> None:
            job.progress = done

        try:
            job.result = work(progress)
            job.status, job.progress = "done", 1.0
        except EmotionLensError as exc:
            job.status, job.error = "failed", {"type": type(exc).__name__, "message": str(exc)}
        except Exception:  # a bug: logged here, reported without details
            logger.exception("job %s failed", job.id)
            job.status, job.error = "failed", {"type": "InternalError", "message": "the analysis failed unexpectedly"}

    def get(self, job_id: str, *, user_id: int, is_admin: bool = False) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or not (is_admin or job.user_id == user_id):
            raise NotFound(f"job {job_id} does not exist or is not yours.")
        return job

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
