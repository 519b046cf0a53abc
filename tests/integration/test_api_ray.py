"""``serve --ray-address``: video and multimodal jobs run on Ray (here a Ray instance on this machine); the
answer is the one the API gives without it."""

import io
import time

import pytest

from emotion_core.accounts import Accounts
from emotion_core.api.app import create_app

ray = pytest.importorskip("ray")

PASSWORD = "a long enough password"


@pytest.fixture()
def ray_api(tmp_path):
    app = create_app({"home": tmp_path, "ray_address": "local"})
    services = app.extensions["emotion_lens"]
    accounts = Accounts(services.store)
    accounts.create_user("ada", PASSWORD, "admin")
    yield app.test_client(), accounts.create_token("ada"), services
    services.jobs.shutdown()
    services.store.engine.dispose()
    ray.shutdown()


def finished(client, token, job_id) -> dict:
    for _ in range(300):
        job = client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}).get_json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_video_and_multimodal_jobs_run_on_ray(ray_api, astronaut_bgr):
    from tests.integration.test_video import encode_clip

    client, token, services = ray_api
    assert services.remote is not None
    headers = {"Authorization": f"Bearer {token}"}
    clip = encode_clip([astronaut_bgr] * 6)
    video = client.post("/api/v1/analyze/video", headers=headers, content_type="multipart/form-data",
                        data={"video": (io.BytesIO(clip), "clip.mp4")})
    assert video.status_code == 202
    job = finished(client, token, video.get_json()["job_id"])
    assert job["status"] == "done", job
    assert job["result"]["video"]["frames_analysed"] == 6
    assert {row["label"] for row in job["result"]["rows"]} == {"happy"}

    multimodal = client.post("/api/v1/analyze/multimodal", headers=headers, content_type="multipart/form-data",
                             data={"video": (io.BytesIO(clip), "clip.mp4"), "text": "What a lovely day!"})
    assert multimodal.status_code == 202
    job = finished(client, token, multimodal.get_json()["job_id"])
    assert job["status"] == "done", job
    assert job["result"]["windows"]

    broken = client.post("/api/v1/analyze/video", headers=headers, content_type="multipart/form-data",
                         data={"video": (io.BytesIO(clip), "clip.mp4"), "face_model": "nope"})
    assert broken.status_code == 400  # refused in the request, as without Ray
