"""Background jobs as database rows: progress writes, the per-user cap, and results that go with their analysis."""

import threading
import time

import pytest
from sqlalchemy import event, select

from emotion_core.errors import LimitReached, NotFound
from emotion_core.jobs import JobRunner
from emotion_core.storage.db import Job


@pytest.fixture()
def runner(store):
    jobs = JobRunner(store, max_per_user=2)
    yield jobs
    jobs.shutdown(wait=True)


def wait_for(runner, job, viewer, *statuses, tries=200):
    for _ in range(tries):
        found = runner.get(job.id, viewer)
        if found.status in statuses:
            return found
        time.sleep(0.02)
    raise AssertionError(f"job {job.id} stayed {found.status}")


def blocked(release: threading.Event):
    """Work that runs until ``release`` is set."""
    def work(progress):
        release.wait(30)
        return {"analysis_id": None}

    return work


def saving(store, user, secret: str):
    """Work that saves an analysis and answers with ``secret`` in its result."""
    def work(progress):
        saved = store.save_analysis(user=user, kind="video", source_name="clip.mp4", rows=[])
        return {"analysis_id": saved.id, "said": secret}

    return work


def test_progress_is_written_at_most_once_per_interval(store, people):
    _, _, analyst, _ = people
    runner = JobRunner(store, max_per_user=2, progress_every_s=0.2)
    updates = []
    event.listen(store.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *args: updates.append(statement)
                 if statement.startswith("UPDATE jobs") else None)
    seen = []

    def work(progress):
        for i in range(500):  # a burst, as a video reports every frame
            progress(i / 1000)
        time.sleep(0.25)
        progress(0.6)  # the interval has passed: written
        with store.session() as session:
            seen.append(session.scalars(select(Job.progress)).one())
        return {"analysis_id": None}

    job = runner.submit(work, user_id=analyst.id, kind="video")
    wait_for(runner, job, analyst, "done")
    runner.shutdown(wait=True)
    assert seen == [0.6]
    assert len(updates) <= 4  # running, at most one write in the burst, 0.6, done


def test_a_user_over_the_cap_is_refused_and_others_are_unaffected(store, people, runner):
    _, admin, analyst, _ = people
    release = threading.Event()
    earlier = runner.submit(saving(store, admin, "ada's result"), user_id=admin.id, kind="video")
    assert wait_for(runner, earlier, admin, "done").result["said"] == "ada's result"
    for _ in range(runner.max_per_user):
        runner.submit(blocked(release), user_id=analyst.id, kind="video")
    for _ in range(50):
        with pytest.raises(LimitReached, match="max_jobs_per_user = 2") as refused:
            runner.submit(blocked(release), user_id=analyst.id, kind="video")
    assert refused.value.retry_after > 0
    other = runner.submit(saving(store, admin, "still served"), user_id=admin.id, kind="video")
    assert runner.get(earlier.id, admin).result["said"] == "ada's result"  # nothing evicted
    release.set()
    assert wait_for(runner, other, admin, "done").result["said"] == "still served"
    again = runner.submit(blocked(release), user_id=analyst.id, kind="video")  # finished jobs free the cap
    assert wait_for(runner, again, analyst, "done").status == "done"


def test_only_the_owner_and_admins_read_a_job(store, people, runner):
    _, admin, analyst, _ = people
    job = runner.submit(saving(store, admin, "private"), user_id=admin.id, kind="video")
    assert wait_for(runner, job, admin, "done").status == "done"
    with pytest.raises(NotFound):
        runner.get(job.id, analyst)
    with pytest.raises(NotFound):
        runner.get("0" * 32, admin)


def test_errors_fail_the_job(store, people, runner):
    _, _, analyst, _ = people

    def broken(progress):
        raise ZeroDivisionError("a bug, with details that stay in the log")

    job = wait_for(runner, runner.submit(broken, user_id=analyst.id, kind="video"), analyst, "failed")
    assert job.error == {"type": "InternalError", "message": "the analysis failed unexpectedly"}


class TestResultsGoWithTheirAnalysis:
    @staticmethod
    def stored_results(store) -> str:
        with store.session() as session:
            return repr(session.scalars(select(Job.result)).all())

    def test_deleting_the_analysis_deletes_the_result(self, store, people, runner):
        _, _, analyst, _ = people
        job = wait_for(runner, runner.submit(saving(store, analyst, "secret words"), user_id=analyst.id,
                                             kind="video"), analyst, "done")
        kept = wait_for(runner, runner.submit(saving(store, analyst, "other words"), user_id=analyst.id,
                                              kind="video"), analyst, "done")
        store.delete_analysis(job.result["analysis_id"], analyst)
        gone = runner.get(job.id, analyst)
        assert (gone.status, gone.result, gone.analysis_id) == ("deleted", None, None)
        assert gone.error["type"] == "ResultDeleted" and "deleted" in gone.error["message"]
        assert runner.get(kept.id, analyst).result["said"] == "other words"
        assert "secret words" not in self.stored_results(store)

    def test_deleting_ones_data_deletes_every_result(self, store, people, runner):
        _, admin, analyst, _ = people
        mine = [wait_for(runner, runner.submit(saving(store, analyst, f"secret {i}"), user_id=analyst.id,
                                               kind="video"), analyst, "done") for i in range(2)]
        theirs = wait_for(runner, runner.submit(saving(store, admin, "admin's"), user_id=admin.id, kind="video"),
                          admin, "done")
        assert [job["result"]["said"] for job in store.export_user_data(analyst)["jobs"]] == ["secret 0", "secret 1"]
        assert store.delete_user_data(analyst) == 2
        assert {runner.get(job.id, analyst).status for job in mine} == {"deleted"}
        assert runner.get(theirs.id, admin).status == "done"
        assert "secret" not in self.stored_results(store)
        assert [job["status"] for job in store.export_user_data(analyst)["jobs"]] == ["deleted", "deleted"]

    def test_deleting_the_user_deletes_their_jobs(self, store, people, runner):
        accounts, admin, analyst, _ = people
        job = wait_for(runner, runner.submit(saving(store, analyst, "secret"), user_id=analyst.id, kind="video"),
                       analyst, "done")
        accounts.delete_user("bob", by=admin)
        with pytest.raises(NotFound):
            runner.get(job.id, admin)
        assert "secret" not in self.stored_results(store)


def test_users_take_turns(store, people):
    """A user's queue of long jobs delays another user's job by one job at most."""
    accounts, admin, analyst, _ = people
    runner = JobRunner(store, max_per_user=3)
    order: list[str] = []
    release = threading.Event()

    def work(name: str, *, hold: bool = False):
        def run(progress):
            order.append(name)
            if hold:
                release.wait(30)
            return {"analysis_id": None}
        return run

    runner.submit(work("bob 1", hold=True), user_id=analyst.id, kind="video")
    runner.submit(work("bob 2"), user_id=analyst.id, kind="video")
    runner.submit(work("bob 3"), user_id=analyst.id, kind="video")
    last = runner.submit(work("ada 1"), user_id=admin.id, kind="video")
    release.set()
    wait_for(runner, last, admin, "done")
    runner.shutdown(wait=True)
    assert order[:2] == ["bob 1", "ada 1"]
