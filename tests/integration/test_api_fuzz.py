"""Fuzzing every endpoint of the OpenAPI document with random and adversarial bodies.

Whatever arrives, the server answers below 500, every 4xx it produces is a JSON error in the document's Error
schema, no job it accepts ends in an internal error, and ``/health`` still answers afterwards. The examples are
bounded (``FUZZ_EXAMPLES`` a strategy) so the suite stays fast in CI.
"""

import base64
import json
import time
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emotion_core.accounts import Accounts
from emotion_core.api.app import create_app
from emotion_core.api.fields import FIELDS
from emotion_core.api.openapi import openapi_document
from tests.integration.test_api import PASSWORD, auth, check

FUZZ_EXAMPLES = 50
fuzz = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

ANALYSES = sorted(path.removeprefix("/analyze/") for path in openapi_document()["paths"]
                  if path.startswith("/analyze/"))
FILE_FIELDS = {"image": ("image",), "video": ("video",), "audio": ("audio", "calibration"), "text": (),
               "multimodal": ("video", "transcript")}

# Values that broke the server once, or would break a careless parser.
NASTY = st.sampled_from([
    "\udfff", "a\ud800b", "\x00", "\x1b[31m", "1e309", "-1", "0", "NaN", "Infinity", "[2]", "true", "",
    " " * 3, "x" * 300, "../../etc/passwd", "weighted", "vote", "face_expression", "seed002_hybrid", "\u202e",
    "😀" * 5, "1" * 40,
])
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30) | NASTY
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
JUNK_FILES = st.binary(max_size=300) | st.sampled_from([b"", b"\x00", b"\x89PNG\r\n\x1a\n",
                                                   b"RIFF\x00\x00\x00\x00WAVE", b"\x00\x00\x00\x18ftypmp42",
                                                   b"1\n00:00:00,000 --> x\nhi\n"])
PLAUSIBLE = {"boolean": st.booleans(), "integer": st.integers(-3, 1200), "number": st.floats(),
             "text": st.text(max_size=80), "name": st.text(max_size=30)}
"""Values of each field type that a client could well send; about half the drawn values come from here."""


def field_values(kind: str) -> dict[str, st.SearchStrategy]:
    """For each field of ``kind``: a plausible value or an adversarial one."""
    return {f.name: PLAUSIBLE[f.type] | JSON_VALUES for f in FIELDS[kind]}


@pytest.fixture(scope="module")
def real_files(astronaut_bgr) -> dict[str, bytes]:
    """One small genuine file for each file field, so that many requests get past the first checks."""
    import cv2

    from tests.conftest import encode
    from tests.integration.test_speech import syllables, wav_bytes
    from tests.integration.test_video import encode_clip

    face = cv2.resize(astronaut_bgr, (96, 96))
    return {"image": encode(face), "audio": wav_bytes(syllables(1.0)), "calibration": wav_bytes(syllables(1.0)),
            "video": encode_clip([face] * 3), "transcript": b"1\n00:00:00,000 --> 00:00:01,000\nI am so happy\n"}


def multipart(fields: dict[str, str], files: dict[str, tuple[bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body written by hand, so that names may hold bytes no client library would send
    (a lone surrogate becomes invalid UTF-8 on the wire)."""
    boundary = "fuzzboundary7MA4YWxkTrZu0gW"

    def raw(text: str) -> bytes:
        return text.encode("utf-8", "surrogatepass")

    parts = [b'Content-Disposition: form-data; name="%s"\r\n\r\n%s' % (raw(k), raw(v)) for k, v in fields.items()]
    parts += [b'Content-Disposition: form-data; name="%s"; filename="%s"\r\n'
              b"Content-Type: application/octet-stream\r\n\r\n%s" % (raw(k), raw(name.replace('"', "'")), data)
              for k, (data, name) in files.items()]
    body = b"".join(b"--%s\r\n%s\r\n" % (boundary.encode(), part) for part in parts) + b"--%s--\r\n" % boundary.encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="module")
def fuzz_api(tmp_path_factory):
    app = create_app({"home": tmp_path_factory.mktemp("fuzz"), "max_upload_bytes": 2**20})
    services = app.extensions["emotion_lens"]
    accounts = Accounts(services.store)
    admin = accounts.create_user("ada", PASSWORD, "admin")
    accounts.create_user("bob", PASSWORD, "analyst", by=admin)
    jobs: list[str] = []
    yield app.test_client(), accounts.create_token("bob"), jobs
    services.jobs.shutdown()
    services.store.engine.dispose()


def answered_sanely(response, jobs: list[str]) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert response.mimetype == "application/json"
        check(response.get_json(), "Error")
    elif response.status_code == 202:
        jobs.append(response.get_json()["job_id"])


def draw_fields(data, kind: str) -> dict:
    values = field_values(kind)
    names = data.draw(st.lists(st.sampled_from([*values, *values, *values, "extra"]), max_size=4, unique=True))
    return {name: data.draw(values.get(name, SCALARS)) for name in names}


def draw_file(data, real_files, field: str) -> bytes:
    return data.draw(st.just(real_files.get(field, b"")) | JUNK_FILES)


@fuzz
@given(kind=st.sampled_from(ANALYSES), data=st.data())
def test_json_bodies(fuzz_api, real_files, kind, data):
    client, token, jobs = fuzz_api
    body = draw_fields(data, kind)
    if FILE_FIELDS[kind] and data.draw(st.integers(0, 3)):  # mostly with the file
        field = FILE_FIELDS[kind][0]
        body[f"{field}_base64"] = base64.b64encode(draw_file(data, real_files, field)).decode()
    body = data.draw(st.just(body) | JSON_VALUES)
    response = client.post(f"/api/v1/analyze/{kind}", headers={**auth(token), "Content-Type": "application/json"},
                           data=json.dumps(body))
    answered_sanely(response, jobs)


@fuzz
@given(kind=st.sampled_from(ANALYSES), data=st.data())
def test_forms_with_files(fuzz_api, real_files, kind, data):
    client, token, jobs = fuzz_api
    form = {name: value if isinstance(value, str) else json.dumps(value)
            for name, value in draw_fields(data, kind).items()}
    names = st.lists(st.sampled_from([*FILE_FIELDS[kind], *FILE_FIELDS[kind], "other"]), min_size=1, max_size=3,
                     unique=True)
    files = {name: (draw_file(data, real_files, name), data.draw(st.sampled_from(["f.mp4", "f.wav", "f.png", "f.srt"])
                                                                  | st.text(max_size=20) | NASTY))
             for name in data.draw(names)}
    body, content_type = multipart(form, files)
    response = client.post(f"/api/v1/analyze/{kind}", headers={**auth(token), "Content-Type": content_type},
                           data=body)
    answered_sanely(response, jobs)


@fuzz
@given(path=st.sampled_from(sorted(openapi_document()["paths"])),
       method=st.sampled_from(["GET", "POST", "PUT", "PATCH"]),
       content_type=st.sampled_from(["application/json", "multipart/form-data", "text/plain", "",
                                     "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]),
       body=st.binary(max_size=200) | st.sampled_from([b"[" * 3000, b'{"text": ' * 100, b"\xff\xfe{}"]),
       job_id=st.text(max_size=40) | NASTY | st.integers(-1, 10**6).map(str))
def test_raw_bodies_on_every_route(fuzz_api, path, method, content_type, body, job_id):
    client, token, jobs = fuzz_api
    in_path = quote(job_id.encode("utf-8", "surrogatepass"), safe="")
    url = "/api/v1" + path.replace("{job_id}", in_path).replace("{analysis_id}", in_path)
    headers = {**auth(token), **({"Content-Type": content_type} if content_type else {})}
    answered_sanely(client.open(url, method=method, headers=headers, data=body), jobs)


@fuzz
@given(header=st.text(max_size=60) | NASTY.map(lambda value: f"Bearer {value}"))
def test_wrong_authorisation_headers(fuzz_api, header):
    client, _, jobs = fuzz_api
    try:
        response = client.get("/api/v1/models", headers={"Authorization": header},
                               environ_base={"REMOTE_ADDR": "192.0.2.7"})
    except ValueError:  # a header value the HTTP layer itself cannot carry (a line break): never sent
        return
    assert response.status_code in (401, 429)
    answered_sanely(response, jobs)


def test_no_accepted_job_failed_unexpectedly_and_health_still_answers(fuzz_api):
    client, token, jobs = fuzz_api
    for job_id in jobs:
        for _ in range(300):
            job = client.get(f"/api/v1/jobs/{job_id}", headers=auth(token)).get_json()
            if job["status"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        assert job.get("error", {}).get("type") != "InternalError", job
    health = client.get("/api/v1/health")
    assert health.status_code == 200 and check(health.get_json(), "Health")["status"] == "ok"
