"""Background jobs for analyses too long for one HTTP request (videos): submit, poll, read the result.

A job is a row of the ``jobs`` table, so it outlives the process; its work runs in this process, on one worker
thread (an analysis already uses every core), or, when ``serve`` has a Ray cluster, is sent from that thread to
the cluster (see :mod:`emotion_core.remote`). The upload a job works on lives only in that process's memory, so a
job still queued or running when the server stops can never finish: the next runner marks it ``interrupted``.
One API process therefore serves a database.

Statuses: ``queued`` -> ``running`` -> ``done``, ``failed`` or ``interrupted``; a ``done`` job becomes ``deleted``
when the analysis it saved is deleted, and its stored result goes with it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, null, select, update
from sqlalchemy.orm import Session

from emotion_core.errors import EmotionLensError, LimitReached, NotFound
from emotion_core.permissions import owns
from emotion_core.storage.db import Job, User, aware, utcnow

if TYPE_CHECKING:
    from emotion_core.storage.store import HistoryStore

logger = logging.getLogger(__name__)

STATUSES = ("queued", "running", "done", "failed", "interrupted", "deleted")
UNFINISHED = ("queued", "running")
RETRY_AFTER_S = 30
"""What a client over its cap is told to wait: about the time a short video takes."""

_INTERRUPTED = {"type": "Interrupted", "message": "the server restarted before this job finished; send the file "
                                                  "again."}
_RESULT_DELETED = {"type": "ResultDeleted", "message": "the analysis this job saved was deleted, and its result "
                                                       "with it."}
_UNEXPECTED = {"type": "InternalError", "message": "the analysis failed unexpectedly"}

Progress = Callable[[float], None]
Work = Callable[[Progress], dict[str, Any]]


def job_json(job: Job) -> dict[str, Any]:
    """What the API answers about a job: its status, and its result or why there is none."""
    data = {"job_id": job.id, "kind": job.kind, "status": job.status, "progress": round(job.progress, 3),
            "created_at": aware(job.created_at).isoformat(), "updated_at": aware(job.updated_at).isoformat()}
    if job.result is not None:
        data["result"] = job.result
    if job.error is not None:
        data["error"] = job.error
    return data


def forget_results(session: Session, analysis_ids: Iterable[int]) -> None:
    """Drop the stored results of the jobs that saved these analyses, which are being deleted (the result
    repeats what the analysis holds, so it must not outlive it)."""
    session.execute(update(Job).where(Job.analysis_id.in_(list(analysis_ids))).values(
        status="deleted", result=null(), error=_RESULT_DELETED, updated_at=utcnow()))


class JobRunner:
    """Queues jobs in the database and runs them one at a time, taking users in turn.

    Users take turns: the next job is the oldest queued one of the user served longest ago (or never), so one
    user's queue of long videos delays another user's job by one job at most, never by the whole queue.

    Parameters
    ----------
    store : HistoryStore
        Where the jobs are kept.
    max_per_user : int
        How many jobs one user may have queued or running; one more is refused with :class:`LimitReached`, so
        no user can fill the queue for the others.
    workers : int
        Jobs run at once (1: an analysis already uses every core).
    progress_every_s : float
        The shortest time between two progress writes (a video reports every frame).
    """

    def __init__(self, store: HistoryStore, *, max_per_user: int, workers: int = 1, progress_every_s: float = 1.0):
        self.store = store
        self.max_per_user = max_per_user
        self.progress_every_s = progress_every_s
        self._submitting = threading.Lock()  # a user's count of unfinished jobs and the new row, as one step
        self._queued: dict[int, deque[tuple[str, Work]]] = {}  # user -> their queued jobs, oldest first
        self._served: dict[int, int] = {}  # user -> when their last job started (a count of started jobs)
        self._started = itertools.count()
        self._ready = threading.Condition()
        self._closed = False
        self._update(Job.status.in_(UNFINISHED), status="interrupted", error=_INTERRUPTED)
        self._workers = [threading.Thread(target=self._serve, name=f"emotion-lens-job-{i}", daemon=True)
                         for i in range(workers)]
        for worker in self._workers:
            worker.start()

    def submit(self, work: Work, *, user_id: int, kind: str) -> Job:
        """Queue ``work(progress)``. It returns the JSON result, with the ``analysis_id`` it saved (the result
        lives as long as that analysis), or raises an :class:`EmotionLensError`.

        Raises
        ------
        LimitReached
            If the user already has :attr:`max_per_user` jobs queued or running.
        """
        with self._submitting, self.store.session() as session:
            unfinished = session.scalar(select(func.count()).select_from(Job).where(
                Job.user_id == user_id, Job.status.in_(UNFINISHED)))
            if unfinished >= self.max_per_user:
                raise LimitReached(f"you have {unfinished} jobs queued or running, the most one user may have "
                                   f"(max_jobs_per_user = {self.max_per_user}); wait for one to finish.",
                                   retry_after=RETRY_AFTER_S)
            job = Job(id=uuid.uuid4().hex, user_id=user_id, kind=kind, status="queued", progress=0.0)
            session.add(job)
        with self._ready:
            self._queued.setdefault(user_id, deque()).append((job.id, work))
            self._ready.notify()
        return job

    def get(self, job_id: str, viewer: User) -> Job:
        """A job of the viewer's (an admin's: anyone's)."""
        with self.store.session() as session:
            job = session.get(Job, job_id)
        if job is None or not owns(viewer, job.user_id):
            raise NotFound(f"job {job_id} does not exist or is not yours.")
        return job

    def shutdown(self, *, wait: bool = False) -> None:
        """Stop taking work; queued jobs are dropped (and read ``interrupted`` after a restart). ``wait``: until
        the running ones have ended."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        if wait:
            for worker in self._workers:
                worker.join()

    def _next(self) -> tuple[str, Work] | None:
        """The next job to run, in users' turns; ``None`` once shut down."""
        with self._ready:
            self._ready.wait_for(lambda: self._closed or self._queued)
            if self._closed:
                return None
            user_id = min(self._queued, key=lambda user: self._served.get(user, -1))
            self._served[user_id] = next(self._started)
            queue = self._queued[user_id]
            job = queue.popleft()
            if not queue:
                del self._queued[user_id]
            return job

    def _serve(self) -> None:
        while (job := self._next()) is not None:
            self._run(*job)

    def _run(self, job_id: str, work: Work) -> None:
        if not self._advance(job_id, "queued", status="running"):
            return  # interrupted meanwhile by a newer runner, or its owner was deleted
        try:
            result = work(self._progress(job_id))
            self._advance(job_id, "running", status="done", progress=1.0, result=result,
                          analysis_id=result["analysis_id"])
        except EmotionLensError as exc:
            self._advance(job_id, "running", status="failed", error={"type": type(exc).__name__, "message": str(exc)})
        except Exception:  # a bug: logged here, reported without details
            logger.exception("job %s failed", job_id)
            self._advance(job_id, "running", status="failed", error=_UNEXPECTED)

    def _progress(self, job_id: str) -> Progress:
        last = time.monotonic()

        def report(done: float) -> None:
            nonlocal last
            if time.monotonic() - last >= self.progress_every_s:
                last = time.monotonic()
                self._advance(job_id, "running", progress=min(max(done, 0.0), 1.0))

        return report

    def _advance(self, job_id: str, expected: str, **values: Any) -> bool:
        """Change the job only while its status is ``expected``, so a job marked interrupted stays so."""
        return self._update(Job.id == job_id, Job.status == expected, **values) > 0

    def _update(self, *where: ColumnElement[bool], **values: Any) -> int:
        with self.store.session() as session:
            return session.execute(update(Job).where(*where).values(updated_at=utcnow(), **values)).rowcount
