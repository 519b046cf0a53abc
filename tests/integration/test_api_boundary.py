"""Every API field is checked before any work starts: the cases a fuzzing run once turned into 500s or failed
jobs now answer 4xx with a JSON error that names the problem."""

import base64
import io
import json

import pytest

from emotion_core.api.fields import MAX_JSON_DEPTH, json_depth
from tests.integration import test_api
from tests.integration.test_api import auth, check, post_image

api = test_api.api  # the same fixture: an app on a fresh home with ada (admin), bob (analyst), cy (viewer)


def error(response, status: int) -> str:
    """The error message of a ``status`` response, checked against the document's Error schema."""
    assert response.status_code == status, response.get_data(as_text=True)
    return check(response.get_json(), "Error")["error"]["message"]


def post_json(client, token, path: str, body) -> object:
    return client.post(f"/api/v1/analyze/{path}", headers={**auth(token), "Content-Type": "application/json"},
                       data=body if isinstance(body, (str, bytes)) else json.dumps(body))


def post_form(client, token, path: str, **form):
    return client.post(f"/api/v1/analyze/{path}", headers=auth(token), data=form, content_type="multipart/form-data")


@pytest.fixture(scope="module")
def clip(astronaut_bgr) -> bytes:
    from tests.integration.test_video import encode_clip

    return encode_clip([astronaut_bgr] * 3)


class TestJsonBodies:
    def test_deep_nesting_is_refused_before_parsing(self, api):
        client, tokens, _ = api
        for path in ("text", "image"):
            message = error(post_json(client, tokens["bob"], path, "[" * 5000 + "]" * 5000), 400)
            assert f"deeper than {MAX_JSON_DEPTH}" in message

    def test_depth_ignores_brackets_in_strings(self):
        assert json_depth(json.dumps({"text": "[[[{{{ \\\" ]]]", "a": [[1]]}).encode()) == 3
        assert json_depth(b'{"a": "\\\\", "b": [[[1]]]}') == 4
        assert json_depth(b"[" * 100, chunk=7) == 100

    def test_a_text_body_over_its_limit_is_413(self, api):
        client, tokens, _ = api
        message = error(post_json(client, tokens["bob"], "text", {"text": "a " * 900_000}), 413)
        assert "accepted here" in message

    def test_wrong_content_type_is_415(self, api):
        client, tokens, _ = api
        response = client.post("/api/v1/analyze/text", headers={**auth(tokens["bob"]), "Content-Type": "text/plain"},
                               data="I am happy")
        assert "application/json" in error(response, 415) or "JSON" in error(response, 415)
        response = client.post("/api/v1/analyze/image", headers={**auth(tokens["bob"]), "Content-Type": "image/png"},
                               data=b"\x89PNG")
        assert "multipart/form-data" in error(response, 415)


class TestFieldTypes:
    @pytest.mark.parametrize("value", [["face_expression"], 3, {"a": 1}])
    def test_face_model_must_be_a_string(self, api, astronaut_png, value):
        client, tokens, _ = api
        body = {"image_base64": base64.b64encode(astronaut_png).decode(), "face_model": value}
        assert "face_model: expected a string" in error(post_json(client, tokens["bob"], "image", body), 400)

    @pytest.mark.parametrize("stride", ["abc", "[2]", "1e309", "-1", "0", "2.5", "100000"])
    def test_stride_is_a_whole_number_in_range(self, api, clip, stride):
        client, tokens, _ = api
        message = error(post_form(client, tokens["bob"], "video", video=(io.BytesIO(clip), "c.mp4"), stride=stride),
                        400)
        assert message.startswith("stride: expected")

    @pytest.mark.parametrize("stride", [[2], 1e300, True, "2"])
    def test_stride_in_json_must_be_a_number(self, api, clip, stride):
        client, tokens, _ = api
        body = {"video_base64": base64.b64encode(clip).decode(), "stride": stride}
        assert "stride: expected a whole number" in error(post_json(client, tokens["bob"], "video", body), 400)

    @pytest.mark.parametrize("window_s", ["abc", "nan", "inf", "0", "61"])
    def test_window_s(self, api, clip, window_s):
        client, tokens, _ = api
        response = post_form(client, tokens["bob"], "multimodal", video=(io.BytesIO(clip), "c.mp4"),
                             window_s=window_s)
        assert error(response, 400).startswith("window_s: expected")

    @pytest.mark.parametrize("text", [["I am happy"], 42, None, {"text": "x"}])
    def test_multimodal_text_must_be_a_string(self, api, clip, text):
        client, tokens, _ = api
        body = {"video_base64": base64.b64encode(clip).decode(), "text": text}
        response = post_json(client, tokens["bob"], "multimodal", body)
        if text is None:  # null is the same as leaving it out
            assert response.status_code == 202
        else:
            assert "text: expected a string" in error(response, 400)

    def test_booleans_and_unknown_fields(self, api, astronaut_png):
        client, tokens, _ = api
        assert "keep_media: expected true or false" in error(
            post_image(client, tokens["bob"], astronaut_png, keep_media="maybe"), 400)
        assert "unknown field 'stide'" in error(post_image(client, tokens["bob"], astronaut_png, stide="2"), 400)
        assert "unknown file field 'photo'" in error(
            post_form(client, tokens["bob"], "image", photo=(io.BytesIO(astronaut_png), "p.png")), 400)


class TestStoredText:
    def test_a_lone_surrogate_is_refused_by_name(self, api, astronaut_png):
        client, tokens, _ = api
        text = post_json(client, tokens["bob"], "text", '{"text": "I am glad", "source": "\\udfff"}')
        assert "source: not valid UTF-8" in error(text, 400)
        image = post_json(client, tokens["bob"], "image", json.dumps(
            {"image_base64": base64.b64encode(astronaut_png).decode(), "filename": "\udfff.png"}))
        assert "filename: not valid UTF-8" in error(image, 400)

    def test_control_characters_are_dropped_from_names_and_texts(self, api, astronaut_png):
        client, tokens, services = api
        response = post_json(client, tokens["bob"], "text",
                             {"text": "I am so glad\x00 to see you.\nReally\x07!", "source": "notes\x00\n.txt"})
        payload = response.get_json()
        assert response.status_code == 200 and payload["source"] == "notes.txt"
        assert [s["text"] for s in payload["sentences"]] == ["I am so glad to see you.", "Really!"]
        owner = services.accounts.user_for_token(tokens["bob"])
        assert services.store.analysis(payload["analysis_id"], owner).source_name == "notes.txt"


class TestVideosAreProbedBeforeQueueing:
    @pytest.mark.parametrize(("data", "status", "words"), [
        (b"", 422, "0 bytes"), (b"\x00", 415, "not a video"), (b"not a video" * 50, 415, "not a video")])
    def test_a_bad_video_is_refused_at_once(self, api, data, status, words):
        client, tokens, _ = api
        for path in ("video", "multimodal"):
            response = post_form(client, tokens["bob"], path, video=(io.BytesIO(data), "x.mp4"))
            assert words in error(response, status)

    def test_a_video_over_the_duration_limit_is_422(self, tmp_path, clip):
        from emotion_core.api.app import create_app
        from emotion_core.face.video import probe_video

        assert probe_video(clip).duration_s is not None
        app = create_app({"home": tmp_path, "max_video_seconds": 0.01})
        services = app.extensions["emotion_lens"]
        admin = services.accounts.create_user("ada", test_api.PASSWORD, "admin")
        token = services.accounts.create_token(admin.name)
        response = post_form(app.test_client(), token, "video", video=(io.BytesIO(clip), "long.mp4"))
        assert "longer than" in error(response, 422)
        services.jobs.shutdown()
        services.store.engine.dispose()

    def test_a_broken_transcript_is_refused_before_the_job(self, api, clip):
        client, tokens, _ = api
        response = post_form(client, tokens["bob"], "multimodal", video=(io.BytesIO(clip), "c.mp4"),
                             transcript=(io.BytesIO(b"\xff\xfe not utf-8"), "t.txt"))
        assert "not UTF-8" in error(response, 422)


class TestAudioLimits:
    @pytest.fixture()
    def short_limits(self, tmp_path):
        from emotion_core.api.app import create_app

        app = create_app({"home": tmp_path, "max_sync_audio_seconds": 2.0, "max_calibration_seconds": 3.0})
        services = app.extensions["emotion_lens"]
        services.accounts.create_user("ada", test_api.PASSWORD, "admin")
        yield app.test_client(), services.accounts.create_token("ada")
        services.jobs.shutdown()
        services.store.engine.dispose()

    def test_longer_than_the_synchronous_limit_is_a_job_on_request(self, short_limits):
        import numpy as np

        from tests.integration.test_speech import syllables, wav_bytes

        client, token = short_limits
        clip = wav_bytes(np.concatenate([syllables(1.5), np.zeros(8000, np.float32), syllables(1.5)]))
        refused = post_form(client, token, "audio", audio=(io.BytesIO(clip), "talk.wav"))
        assert "send it with job=true" in error(refused, 422)
        queued = post_form(client, token, "audio", audio=(io.BytesIO(clip), "talk.wav"), job="true")
        assert queued.status_code == 202
        job = test_api.poll(client, token, queued.get_json()["job_id"])
        assert job["status"] == "done" and check(job["result"], "AudioAnalysis")["segments"]

    def test_calibration_recordings_share_one_budget(self, short_limits):
        from tests.integration.test_speech import syllables, wav_bytes

        client, token = short_limits
        two_seconds = wav_bytes(syllables(2.0))
        response = post_form(client, token, "audio", audio=(io.BytesIO(wav_bytes(syllables(1.0))), "v.wav"),
                             calibration=[(io.BytesIO(two_seconds), f"same-{k}.wav") for k in range(2)])
        message = error(response, 422)
        assert message.startswith("same-1.wav")
        assert "calibration recordings may last 0.05 minutes in all" in message
