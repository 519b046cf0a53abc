"""The JSON API through Flask's test client, against the OpenAPI document it serves."""

import base64
import io
import json
import time

import pytest
from jsonschema import Draft202012Validator

from emotion_core.accounts import SOURCE_BACKOFF, Accounts
from emotion_core.api import create_app
from emotion_core.config import Settings
from emotion_core.openapi import SCHEMAS, openapi_document
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
        routes = {rule.rule.removeprefix("/api/v1").replace("<job_id>", "{job_id}")
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

def test_the_api_and_the_pages_call_the_same_core_function():
    from app_support import image_tab, video_tab
    from emotion_core import analysis, api, video

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
