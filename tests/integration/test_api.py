"""The JSON API through Flask's test client, against the OpenAPI document it serves."""

import base64
import io
import json
import re
import threading
import time

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import MetaData

from emotion_core.accounts import SOURCE_BACKOFF, Accounts
from emotion_core.api.app import create_app
from emotion_core.api.openapi import SCHEMAS, openapi_document
from emotion_core.config import Settings
from emotion_core.labels import EMOTIONS
from tests.conftest import encode
from tests.unit.test_throttle import FakeClock

PASSWORD = "a long enough password"


def check(payload, schema: str):
    """Validate a response body against a schema of the OpenAPI document."""
    Draft202012Validator({"$ref": f"#/components/schemas/{schema}", "components": {"schemas": SCHEMAS}}).validate(
        payload)
    return payload


@pytest.fixture()
def api(tmp_path):
    app = create_app({"home": tmp_path, "max_upload_bytes": 5 * 2**20})
    services = app.extensions["emotion_lens"]
    accounts = Accounts(services.store)
    admin = accounts.create_user("ada", PASSWORD, "admin")
    accounts.create_user("bob", PASSWORD, "analyst", by=admin)
    accounts.create_user("cy", PASSWORD, "viewer", by=admin)
    tokens = {name: accounts.create_token(name) for name in ("ada", "bob", "cy")}
    client = app.test_client()
    yield client, tokens, services
    services.jobs.shutdown()
    services.store.engine.dispose()


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def post_image(client, token, data: bytes, name="photo.png", **form):
    return client.post("/api/v1/analyze/image", headers=auth(token),
                       data={"image": (io.BytesIO(data), name), **form}, content_type="multipart/form-data")


def faces_without_timing(payload):
    return [{k: v for k, v in face.items() if k != "latency_ms"} for face in payload["faces"]]


class TestDocumentAndHealth:
    def test_health_needs_no_token(self, api):
        client, _, _ = api
        response = client.get("/api/v1/health")
        assert response.status_code == 200
        assert "face_expression" in check(response.get_json(), "Health")["models"]

    def test_openapi_document_lists_every_route(self, api):
        client, _, _ = api
        document = client.get("/api/v1/openapi.json").get_json()
        assert document == json.loads(json.dumps(openapi_document()))
        assert document["openapi"].startswith("3.1")
        routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
                  for rule in client.application.url_map.iter_rules() if rule.rule.startswith("/api/v1")}
        assert routes == set(document["paths"])


class TestAuth:
    @pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer el_not_a_token"}, {"Authorization": "x"}])
    def test_missing_or_wrong_token(self, api, headers):
        client, _, _ = api
        response = client.get("/api/v1/models", headers=headers)
        assert response.status_code == 401
        check(response.get_json(), "Error")

    def test_wrong_tokens_are_throttled_per_address(self, api):
        client, tokens, services = api
        services.accounts = Accounts(services.store, clock=FakeClock())  # time stands still: no wait ends
        guesser, other = {"REMOTE_ADDR": "203.0.113.9"}, {"REMOTE_ADDR": "198.51.100.7"}
        for _ in range(SOURCE_BACKOFF.free + 1):
            response = client.get("/api/v1/models", headers=auth("el_guess"), environ_base=guesser)
            assert response.status_code == 401
        refused = client.get("/api/v1/models", headers=auth(tokens["cy"]), environ_base=guesser)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        assert check(refused.get_json(), "Error")["error"]["type"] == "TooManyAttempts"
        assert "Retry-After" in openapi_document()["paths"]["/models"]["get"]["responses"]["429"]["headers"]
        assert client.get("/api/v1/models", headers=auth(tokens["cy"]), environ_base=other).status_code == 200

    def test_a_disabled_accounts_tokens_are_refused(self, api):
        client, tokens, services = api
        services.accounts.set_disabled("cy", True, by=services.accounts.user_for_token(tokens["ada"]))
        response = client.get("/api/v1/models", headers=auth(tokens["cy"]))
        assert response.status_code == 403
        assert "disabled" in check(response.get_json(), "Error")["error"]["message"]

    def test_models(self, api):
        client, tokens, _ = api
        response = client.get("/api/v1/models", headers=auth(tokens["cy"]))
        assert response.status_code == 200
        assert {m["name"] for m in check(response.get_json(), "Models")["models"]} >= {"face_expression"}

    def test_viewer_may_not_analyse(self, api, astronaut_png):
        client, tokens, _ = api
        response = post_image(client, tokens["cy"], astronaut_png)
        assert response.status_code == 403
        assert check(response.get_json(), "Error")["error"]["type"] == "PermissionDenied"


class TestImage:
    def test_upload_is_analysed_and_saved(self, api, astronaut_png):
        client, tokens, services = api
        response = post_image(client, tokens["bob"], astronaut_png)
        payload = check(response.get_json(), "ImageAnalysis")
        assert response.status_code == 200
        assert [face["label"] for face in payload["faces"]] == ["happy"]
        owner = services.accounts.user_for_token(tokens["bob"])
        stored = services.store.analysis(payload["analysis_id"], owner)
        assert stored.kind == "image" and stored.media_file is None and len(stored.rows) == 1

    def test_path_upload_and_base64_give_the_same_result(self, api, astronaut_png, tmp_path, capsys):
        from emotion_core.cli import main

        client, tokens, _ = api
        uploaded = post_image(client, tokens["bob"], astronaut_png).get_json()
        as_json = client.post("/api/v1/analyze/image", headers=auth(tokens["bob"]), json={
            "image_base64": base64.b64encode(astronaut_png).decode(), "filename": "photo.png"}).get_json()
        path = tmp_path / "photo.png"
        path.write_bytes(astronaut_png)
        assert main(["analyze", str(path), "--json"]) == 0
        from_cli = json.loads(capsys.readouterr().out)
        assert faces_without_timing(uploaded) == faces_without_timing(as_json) == faces_without_timing(from_cli)

    def test_no_face_is_a_200_with_a_reason(self, api, coffee_bgr):
        client, tokens, _ = api
        response = post_image(client, tokens["bob"], encode(coffee_bgr, "JPEG"), name="cup.jpg")
        payload = check(response.get_json(), "ImageAnalysis")
        assert response.status_code == 200 and payload["faces"] == [] and payload["reason"] == "no face found"

    def test_keep_media_stores_the_file(self, api, astronaut_png):
        client, tokens, services = api
        payload = post_image(client, tokens["bob"], astronaut_png, keep_media="true").get_json()
        owner = services.accounts.user_for_token(tokens["bob"])
        stored = services.store.analysis(payload["analysis_id"], owner)
        assert (services.store.media_dir / stored.media_file).read_bytes() == astronaut_png


class TestErrors:
    def test_missing_field_and_malformed_json(self, api):
        client, tokens, _ = api
        for response in (
            client.post("/api/v1/analyze/image", headers=auth(tokens["bob"]), data={},
                        content_type="multipart/form-data"),
            client.post("/api/v1/analyze/image", headers={**auth(tokens["bob"]), "Content-Type": "application/json"},
                        data="{not json"),
            client.post("/api/v1/analyze/image", headers=auth(tokens["bob"]), json={"image_base64": "%%%"}),
            client.post("/api/v1/analyze/image", headers=auth(tokens["bob"]), json={"picture": "x"}),
        ):
            assert response.status_code == 400
            check(response.get_json(), "Error")

    def test_wrong_type_is_415_and_a_broken_image_422(self, api, astronaut_bgr):
        client, tokens, _ = api
        pdf = post_image(client, tokens["bob"], b"%PDF-1.7 this is a document" * 20, name="cv.pdf")
        assert pdf.status_code == 415 and "not an image" in pdf.get_json()["error"]["message"]
        jpeg = encode(astronaut_bgr, "JPEG")
        broken = post_image(client, tokens["bob"], jpeg[: len(jpeg) // 2], name="cut.jpg")
        assert broken.status_code == 422 and "truncated" in broken.get_json()["error"]["message"]

    def test_upload_over_the_limit_is_413(self, api):
        client, tokens, _ = api
        response = post_image(client, tokens["bob"], b"\0" * (6 * 2**20))
        assert response.status_code == 413
        check(response.get_json(), "Error")

    def test_unknown_route_and_method_are_json(self, api):
        client, tokens, _ = api
        assert client.get("/api/v1/nothing", headers=auth(tokens["bob"])).status_code == 404
        wrong_method = client.get("/api/v1/analyze/image", headers=auth(tokens["bob"]))
        assert wrong_method.status_code == 405
        check(wrong_method.get_json(), "Error")
        assert "Traceback" not in wrong_method.get_data(as_text=True)


class TestVideoJobs:
    def test_a_video_becomes_a_job_with_a_result(self, api, astronaut_bgr):
        from tests.integration.test_video import encode_clip

        client, tokens, services = api
        clip = encode_clip([astronaut_bgr] * 6)
        response = client.post("/api/v1/analyze/video", headers=auth(tokens["bob"]),
                               data={"video": (io.BytesIO(clip), "clip.mp4")}, content_type="multipart/form-data")
        assert response.status_code == 202
        job = check(response.get_json(), "Job")
        for _ in range(100):
            job = check(client.get(f"/api/v1/jobs/{job['job_id']}", headers=auth(tokens["bob"])).get_json(), "Job")
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert job["status"] == "done", job
        assert job["result"]["video"]["frames_analysed"] == 6
        assert {row["label"] for row in job["result"]["rows"]} == {"happy"}
        # another analyst cannot read it; the admin can
        services.accounts.create_user("dee", PASSWORD, "analyst",
                                      by=services.accounts.user_for_token(tokens["ada"]))
        other = services.accounts.create_token("dee")
        assert client.get(f"/api/v1/jobs/{job['job_id']}", headers=auth(other)).status_code == 404
        assert client.get(f"/api/v1/jobs/{job['job_id']}", headers=auth(tokens["ada"])).status_code == 200

    def test_a_video_job_lists_the_alerts_it_raised(self, api, astronaut_bgr):
        from tests.integration.test_alerts import FACE_FROM, FACE_UNTIL, happy_clip, happy_for

        client, tokens, services = api
        services.store.save_rule(services.accounts.user_for_token(tokens["ada"]), happy_for(1))
        response = client.post("/api/v1/analyze/video", headers=auth(tokens["bob"]),
                               data={"video": (io.BytesIO(happy_clip(astronaut_bgr)), "smile.mp4")},
                               content_type="multipart/form-data")
        job = poll(client, tokens["bob"], response.get_json()["job_id"])
        assert job["status"] == "done", job
        (alert,) = job["result"]["alerts"]
        assert alert["rule"] == "happy for 1 s" and "1.6 s" in alert["detail"]
        assert (alert["start_s"], alert["end_s"]) == (pytest.approx(FACE_FROM), pytest.approx(FACE_UNTIL))
        (stored,) = services.store.alerts(services.accounts.user_for_token(tokens["bob"]))
        assert stored.analysis_id == job["result"]["analysis_id"]

class TestSharing:
    @pytest.fixture()
    def bobs(self, api, astronaut_png):
        """An analysis of bob's (an analyst), not shared."""
        client, tokens, _ = api
        return post_image(client, tokens["bob"], astronaut_png).get_json()["analysis_id"]

    @staticmethod
    def share(client, token, analysis_id, body, **kwargs):
        return client.patch(f"/api/v1/analyses/{analysis_id}", headers=auth(token), json=body, **kwargs)

    def seen_by(self, services, name):
        user = next(u for u in Accounts(services.store).users() if u.name == name)
        return [a.id for a in services.store.analyses(user)]

    def test_the_owner_shares_and_unshares(self, api, bobs):
        client, tokens, services = api
        assert self.seen_by(services, "cy") == []
        response = self.share(client, tokens["bob"], bobs, {"shared": True})
        assert response.status_code == 200
        assert check(response.get_json(), "AnalysisRecord")["shared"] is True
        assert response.get_json()["owner"] == "bob" and self.seen_by(services, "cy") == [bobs]
        response = self.share(client, tokens["bob"], bobs, {"shared": False})
        assert response.get_json()["shared"] is False and self.seen_by(services, "cy") == []

    def test_an_admin_may_and_others_may_not(self, api, bobs):
        client, tokens, services = api
        assert self.share(client, tokens["cy"], bobs, {"shared": True}).status_code == 404  # cannot see it
        assert self.share(client, tokens["ada"], bobs, {"shared": True}).status_code == 200
        refused = self.share(client, tokens["cy"], bobs, {"shared": False})  # sees it now, but is not its owner
        assert refused.status_code == 403 and "owner" in check(refused.get_json(), "Error")["error"]["message"]
        assert self.seen_by(services, "cy") == [bobs]

    @pytest.mark.parametrize("body, status, message", [
        ({}, 400, "missing field shared"),
        ({"shared": "maybe"}, 400, "shared: expected true or false"),
        ({"shared": True, "owner": "cy"}, 400, "unknown field 'owner'"),
        ([True], 400, "not a JSON object"),
    ])
    def test_bad_bodies(self, api, bobs, body, status, message):
        client, tokens, _ = api
        response = self.share(client, tokens["bob"], bobs, body)
        assert response.status_code == status and message in check(response.get_json(), "Error")["error"]["message"]

    def test_a_form_is_415_and_an_unknown_analysis_404(self, api, bobs):
        client, tokens, _ = api
        form = client.patch(f"/api/v1/analyses/{bobs}", headers=auth(tokens["bob"]), data={"shared": "true"})
        assert form.status_code == 415
        assert self.share(client, tokens["bob"], bobs + 100, {"shared": True}).status_code == 404
        assert self.share(client, "el_nobody", bobs, {"shared": True}).status_code == 401


def test_the_api_and_the_pages_call_the_same_core_function():
    from app_support import image_tab, video_tab
    from emotion_core.api import app as api
    from emotion_core.face import analysis, video

    assert api.analyze_image is image_tab.analyze_image is analysis.analyze_image
    assert api.analyze_video is video_tab.analyze_video is video.analyze_video


def poll(client, token, job_id, *, tries=150):
    for _ in range(tries):
        job = check(client.get(f"/api/v1/jobs/{job_id}", headers=auth(token)).get_json(), "Job")
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


class TestAudioTextMultimodal:
    def test_audio_upload_and_base64(self, api):
        import numpy as np

        from tests.integration.test_speech import syllables, wav_bytes

        client, tokens, _ = api
        clip = wav_bytes(np.concatenate([syllables(1.5), np.zeros(8000, np.float32), syllables(1.5)]))
        uploaded = client.post("/api/v1/analyze/audio", headers=auth(tokens["bob"]),
                               data={"audio": (io.BytesIO(clip), "voice.wav")}, content_type="multipart/form-data")
        assert uploaded.status_code == 200
        payload = check(uploaded.get_json(), "AudioAnalysis")
        assert len(payload["segments"]) == 2 and payload["overall"]["modality"] == "speech"
        as_json = client.post("/api/v1/analyze/audio", headers=auth(tokens["bob"]), json={
            "audio_base64": base64.b64encode(clip).decode(), "filename": "voice.wav"}).get_json()
        assert [s["scores"] for s in as_json["segments"]] == [s["scores"] for s in payload["segments"]]

    def test_audio_calibrated_to_the_speaker(self, api):
        import numpy as np

        from tests.integration.test_speech import syllables, wav_bytes

        client, tokens, _ = api
        two_segments = wav_bytes(np.concatenate([syllables(1.2), np.zeros(8000, np.float32), syllables(1.0)]))

        def post(recordings: int):
            return client.post("/api/v1/analyze/audio", headers=auth(tokens["bob"]), content_type="multipart/form-data",
                               data={"audio": (io.BytesIO(wav_bytes(syllables(2.0))), "voice.wav"),
                                     "calibration": [(io.BytesIO(two_segments), f"same-{k}.wav")
                                                     for k in range(recordings)]})

        calibrated = post(3)
        payload = check(calibrated.get_json(), "AudioAnalysis")
        assert calibrated.status_code == 200 and payload["calibration"] == {"profile_segments": 6}
        assert "calibrated" in payload["overall"]["model_id"]
        too_few = post(1)
        assert too_few.status_code == 422 and "at least 5" in too_few.get_json()["error"]["message"]

    def test_a_long_recording_calibrates_on_itself(self, api):
        from emotion_core.speech.predictor import SELF_CALIBRATED_SPEECH_MODEL
        from tests.conftest import MODELS
        from tests.integration.test_speech import syllables, wav_bytes

        client, tokens, _ = api
        needed = json.loads((MODELS / f"{SELF_CALIBRATED_SPEECH_MODEL}.card.json").read_text())["input"]["min_segments"]
        pause = np.zeros(8000, np.float32)
        pieces = [(syllables(0.8 + 0.1 * (k % 4)), pause) for k in range(needed + 2)]
        long = wav_bytes(np.concatenate([x for piece in pieces for x in piece]))
        answer = client.post("/api/v1/analyze/audio", headers=auth(tokens["bob"]),
                             content_type="multipart/form-data", data={"audio": (io.BytesIO(long), "interview.wav")})
        payload = check(answer.get_json(), "AudioAnalysis")
        assert answer.status_code == 200 and payload["calibration"] == {"recording_segments": len(payload["segments"])}
        assert len(payload["segments"]) >= needed and "self-calibrated" in payload["overall"]["model_id"]
        assert {s["model_id"] for s in payload["segments"]} == {payload["overall"]["model_id"]}

    def test_silence_is_a_200_with_a_reason_and_text_is_415(self, api):
        import numpy as np

        from tests.integration.test_speech import wav_bytes

        client, tokens, _ = api
        silent = client.post("/api/v1/analyze/audio", headers=auth(tokens["bob"]),
                             data={"audio": (io.BytesIO(wav_bytes(np.zeros(32000, np.float32))), "q.wav")},
                             content_type="multipart/form-data")
        payload = check(silent.get_json(), "AudioAnalysis")
        assert silent.status_code == 200 and payload["overall"] is None and "silence" in payload["reason"]
        wrong = client.post("/api/v1/analyze/audio", headers=auth(tokens["bob"]),
                            data={"audio": (io.BytesIO(b"hello there " * 40), "q.mp3")},
                            content_type="multipart/form-data")
        assert wrong.status_code == 415

    def test_text(self, api):
        client, tokens, _ = api
        response = client.post("/api/v1/analyze/text", headers=auth(tokens["bob"]),
                               json={"text": "I love it. But the ending made me cry."})
        payload = check(response.get_json(), "TextAnalysis")
        assert response.status_code == 200 and len(payload["sentences"]) == 2 and payload["words"]
        digits = client.post("/api/v1/analyze/text", headers=auth(tokens["bob"]), json={"text": "10:30 - 11:45"})
        overall = check(digits.get_json(), "TextAnalysis")["overall"]
        assert overall["uncertain"] is True and overall["uncertain_reason"].startswith("no letters")
        assert client.post("/api/v1/analyze/text", headers=auth(tokens["bob"]), json={"txt": "x"}).status_code == 400
        empty = client.post("/api/v1/analyze/text", headers=auth(tokens["bob"]), json={"text": "  "})
        assert empty.status_code == 422 and "nothing to analyse" in empty.get_json()["error"]["message"]

    def test_multimodal_job(self, api, astronaut_bgr):
        from tests.integration.test_multimodal import SRT, talking_face

        client, tokens, _ = api
        response = client.post("/api/v1/analyze/multimodal", headers=auth(tokens["bob"]), data={
            "video": (io.BytesIO(talking_face(astronaut_bgr)), "talk.mp4"),
            "transcript": (io.BytesIO(SRT.encode()), "talk.srt"), "method": "vote", "window_s": "2"},
            content_type="multipart/form-data")
        assert response.status_code == 202
        job = poll(client, tokens["bob"], response.get_json()["job_id"])
        assert job["status"] == "done", job
        result = check(job["result"], "MultimodalAnalysis")
        assert result["method"] == "vote" and len(result["windows"]) == 2 and result["missing"] == {}

    def test_multimodal_bad_options(self, api, astronaut_bgr):
        client, tokens, _ = api
        response = client.post("/api/v1/analyze/multimodal", headers=auth(tokens["bob"]), data={
            "video": (io.BytesIO(b"x" * 100), "talk.mp4"), "method": "median"}, content_type="multipart/form-data")
        assert response.status_code == 400


def test_an_unknown_face_model_is_a_bad_request(api, astronaut_png):
    client, tokens, _ = api
    response = post_image(client, tokens["bob"], astronaut_png, face_model="no-such-model")
    assert response.status_code == 400 and "face_model must be one of" in response.get_json()["error"]["message"]


def test_a_photo_can_choose_its_detector(api, astronaut_bgr):
    """A face about 45 px wide in a 640x480 scene, found by MTCNN on request; an unknown detector is refused."""
    import cv2

    scene = np.full((480, 640, 3), 90, np.uint8)
    scene[300:364, 500:564] = cv2.resize(astronaut_bgr[40:200, 150:310], (64, 64), interpolation=cv2.INTER_AREA)
    client, tokens, _ = api
    response = post_image(client, tokens["bob"], encode(scene), detector="mtcnn")
    assert response.status_code == 200, response.get_json()
    payload = response.get_json()
    assert payload["detector"] == "mtcnn" and len(payload["faces"]) == 1
    response = post_image(client, tokens["bob"], encode(scene), detector="yolo")
    assert response.status_code == 400
    assert "blazeface, blazeface-short, mtcnn" in response.get_json()["error"]["message"]


def test_a_missing_model_is_a_503_and_the_rest_still_serves(tmp_path):
    shipped = Settings.from_env().models_dir
    models = tmp_path / "models"
    models.mkdir()
    for path in shipped.iterdir():
        if not path.name.startswith("text_emotion."):
            (models / path.name).symlink_to(path)
    app = create_app({"home": tmp_path, "models_dir": models})
    services = app.extensions["emotion_lens"]
    accounts = Accounts(services.store)
    accounts.create_user("ada", PASSWORD, "admin")
    token = accounts.create_token("ada")
    client = app.test_client()
    response = client.post("/api/v1/analyze/text", headers=auth(token), json={"text": "What a lovely day."})
    assert response.status_code == 503
    assert "text_emotion" in check(response.get_json(), "Error")["error"]["message"]
    assert client.get("/api/v1/health").status_code == 200
    services.jobs.shutdown()
    services.store.engine.dispose()


def post_video(client, token, clip: bytes):
    return client.post("/api/v1/analyze/video", headers=auth(token), data={"video": (io.BytesIO(clip), "clip.mp4")},
                       content_type="multipart/form-data")


@pytest.fixture(scope="module")
def clip(astronaut_bgr) -> bytes:
    from tests.integration.test_video import encode_clip

    return encode_clip([astronaut_bgr] * 6)


class TestDurableJobs:
    def test_jobs_outlive_a_restart(self, api, clip, tmp_path):
        from tests.integration.test_jobs import blocked, wait_for

        client, tokens, services = api
        done = poll(client, tokens["bob"], post_video(client, tokens["bob"], clip).get_json()["job_id"])
        bob = services.accounts.user_for_token(tokens["bob"])
        release, ran = threading.Event(), []
        running = services.jobs.submit(blocked(release), user_id=bob.id, kind="video")
        queued = services.jobs.submit(lambda progress: ran.append(progress), user_id=bob.id, kind="video")
        wait_for(services.jobs, running, bob, "running")
        restarted = create_app({"home": tmp_path})  # the same database and media folder
        try:
            again = restarted.test_client()
            assert check(again.get(f"/api/v1/jobs/{done['job_id']}", headers=auth(tokens["bob"])).get_json(),
                         "Job") == done
            for job in (running, queued):
                answer = check(again.get(f"/api/v1/jobs/{job.id}", headers=auth(tokens["bob"])).get_json(), "Job")
                assert answer["status"] == "interrupted" and "restarted" in answer["error"]["message"]
            assert again.get(f"/api/v1/jobs/{'0' * 32}", headers=auth(tokens["bob"])).status_code == 404
            release.set()
            services.jobs.shutdown(wait=True)  # the old runner ends its work but cannot overwrite the new status
            assert services.jobs.get(running.id, bob).status == "interrupted" and ran == []
        finally:
            restarted.extensions["emotion_lens"].jobs.shutdown()
            restarted.extensions["emotion_lens"].store.engine.dispose()

    def test_a_user_over_the_cap_gets_429_and_others_are_served(self, api, clip):
        from tests.integration.test_jobs import blocked

        client, tokens, services = api
        cap = services.settings.max_jobs_per_user
        bob = services.accounts.user_for_token(tokens["bob"])
        release = threading.Event()
        for _ in range(cap):
            services.jobs.submit(blocked(release), user_id=bob.id, kind="video")
        refused = post_video(client, tokens["bob"], clip)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        error = check(refused.get_json(), "Error")["error"]
        assert error["type"] == "LimitReached" and f"max_jobs_per_user = {cap}" in error["message"]
        accepted = post_video(client, tokens["ada"], clip)
        assert accepted.status_code == 202
        release.set()
        assert poll(client, tokens["ada"], accepted.get_json()["job_id"])["status"] == "done"

    def test_a_deleted_analysis_takes_the_job_result_with_it(self, api, clip):
        client, tokens, services = api
        job = poll(client, tokens["bob"], post_video(client, tokens["bob"], clip).get_json()["job_id"])
        services.store.delete_analysis(job["result"]["analysis_id"], services.accounts.user_for_token(tokens["bob"]))
        after = check(client.get(f"/api/v1/jobs/{job['job_id']}", headers=auth(tokens["bob"])).get_json(), "Job")
        assert after["status"] == "deleted" and "result" not in after
        assert after["error"]["type"] == "ResultDeleted"

    def test_the_document_lists_429_with_retry_after_where_jobs_start(self):
        paths = openapi_document()["paths"]
        for path in ("/analyze/video", "/analyze/multimodal"):
            assert "Retry-After" in paths[path]["post"]["responses"]["429"]["headers"]
        assert set(SCHEMAS["Job"]["properties"]["status"]["enum"]) == {"queued", "running", "done", "failed",
                                                                       "interrupted", "deleted"}


def stored_values(services) -> str:
    """Every value of every table in the database, as one text to search."""
    tables = MetaData()
    tables.reflect(services.store.engine)
    with services.store.engine.connect() as connection:
        return json.dumps([list(row) for table in tables.sorted_tables for row in connection.execute(table.select())],
                          default=str, ensure_ascii=False)


class TestWordsAreStoredOnlyWithConsent:
    """Typed text and transcripts are the user's, like uploads: without keep_media only labels, probabilities and
    spans are stored."""

    WORDS = ("Marmalade comets hum softly.", "Tangerine lighthouses feel glad.")

    def analyse(self, api, face_bgr, *, keep: bool):
        from tests.integration.test_multimodal import talking_face

        client, tokens, services = api
        consent = {"keep_media": "true"} if keep else {}
        text = client.post("/api/v1/analyze/text", headers=auth(tokens["bob"]),
                           json={"text": " ".join(self.WORDS), "explain": False, **consent})
        srt = "1\n00:00:00,500 --> 00:00:02,000\n{}\n\n2\n00:00:02,500 --> 00:00:03,800\n{}\n".format(*self.WORDS)
        started = client.post("/api/v1/analyze/multimodal", headers=auth(tokens["bob"]), data={
            "video": (io.BytesIO(talking_face(face_bgr)), "talk.mp4"),
            "transcript": (io.BytesIO(srt.encode()), "talk.srt"), **consent}, content_type="multipart/form-data")
        job = poll(client, tokens["bob"], started.get_json()["job_id"])
        assert text.status_code == 200 and job["status"] == "done", job
        bob = services.accounts.user_for_token(tokens["bob"])
        return (services.store.analysis(text.get_json()["analysis_id"], bob),
                services.store.analysis(job["result"]["analysis_id"], bob), job)

    def test_without_keep_media_only_labels_probabilities_and_spans(self, api, astronaut_bgr):
        _, _, services = api
        text, multimodal, job = self.analyse(api, astronaut_bgr, keep=False)
        stored = stored_values(services)
        assert not [word for word in re.findall(r"\w{6,}", " ".join(self.WORDS)) if word in stored]
        assert not services.store.media_dir.exists() or not list(services.store.media_dir.iterdir())
        assert [row.detail["chars"] for row in text.rows] == [[0, 28], [29, 61]]
        cues = [row for row in multimodal.rows if row.modality == "text"]
        assert [(row.start_s, row.end_s) for row in cues] == [(0.5, 2.0), (2.5, 3.8)]
        assert all(row.label in EMOTIONS and row.p_happy is not None for row in [*text.rows, *cues])
        assert [set(cue) for cue in check(job["result"], "MultimodalAnalysis")["text"]] == [
            {"start_s", "end_s", "result"}] * 2

    def test_with_keep_media_the_words_are_kept(self, api, astronaut_bgr):
        from emotion_core.analytics import transcript_table

        _, _, services = api
        text, multimodal, job = self.analyse(api, astronaut_bgr, keep=True)
        assert (services.store.media_dir / text.media_file).read_text() == " ".join(self.WORDS)
        assert list(transcript_table(multimodal)["text"]) == list(self.WORDS)
        assert [cue["text"] for cue in job["result"]["text"]] == list(self.WORDS)
        assert all(sentence in stored_values(services) for sentence in self.WORDS)

    def test_a_batch_of_texts_keeps_none_of_them(self, api):
        from emotion_core.storage.history import save_text_batch
        from emotion_core.text.analysis import analyze_texts

        _, tokens, services = api
        bob = services.accounts.user_for_token(tokens["bob"])
        table = analyze_texts(list(self.WORDS), services.text())
        saved = save_text_batch(services.store, bob, table, source="reviews.csv", column="review")
        assert not [sentence for sentence in self.WORDS if sentence in stored_values(services)]
        assert [row.label for row in services.store.analysis(saved.id, bob).rows] == list(table["label"])
