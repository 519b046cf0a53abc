"""The largest input each endpoint accepts, sent to a real `serve` process on 127.0.0.1: time, memory, status.

    python -m benchmarks.worst_case [--out benchmarks/results/worst_case.json] [--repeats 3] [--only text,image]

Every input is made here, at the limits of the default settings: texts of ``MAX_TEXT_CHARS`` characters in
every shape that costs something different, a ``max_image_pixels`` image as a PNG of noise (the most bytes and
the slowest decode) and as a JPEG, ``max_sync_audio_seconds`` of continuous voice answered in the request and
``max_audio_seconds`` as a job, calibration recordings filling ``max_calibration_seconds`` (and one more), and
video and multimodal jobs (a minute of 640x480 at 30 fps, and the most bytes an upload may have), timed from the
upload to the finished job. A video at ``max_video_seconds`` is not run: its time is estimated from the minute's
cost per frame (``video_at_its_limit_estimate_s``).

Per case: the wall time of each request as the client sees it (median of the repeats), its status, and the server
process's resident memory (``/proc/<pid>/status``, sampled every 10 ms): the peak above what it held before the
case, and what it still held after. A second client asks ``/health`` every 250 ms meanwhile; its slowest answer
shows whether the server stayed responsive.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import random
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import ApiServer, api_server, machine_info, sample_frame, save_results
from emotion_core.config import Settings
from emotion_core.media import MAX_TEXT_CHARS
from emotion_core.speech.audio import MAX_SAMPLES_PER_SECOND, SAMPLE_RATE
from emotion_core.text.analysis import MAX_OCCLUSIONS, MAX_SENTENCES
from emotion_core.text.sentiment import MAX_TEXT_WORDS, MAX_WORDS, vader_words

SETTINGS = Settings()
JOB_DEADLINE_S = 900


# ---- inputs ---------------------------------------------------------------------------------------------------

WORDS = ("i feel so happy today because my friends came over and we laughed about the old days but then the "
         "news made me angry and sad and a little afraid of what might happen next at work this week").split()


EMOJI = "\U0001F639\U0001F638\U0001F970\U0001F92D\U0001F923\U0001F63C\U0001F63B\U0001F626\U0001F61A"
"""Emoji whose descriptions VADER reads as five or six words ("cat face with tears of joy")."""


def _words(count: int, *, seed: int = 0, separator: str = " ") -> str:
    rng = random.Random(seed)
    return separator.join(rng.choice(WORDS) for _ in range(count))


def _filled(piece: str) -> str:
    """``piece`` repeated to exactly :data:`MAX_TEXT_CHARS` characters."""
    return (piece * (MAX_TEXT_CHARS // len(piece) + 1))[:MAX_TEXT_CHARS].strip()


def text_shapes() -> dict[str, tuple[str, str]]:
    """Name -> (what it is, the text): every one as long as the API accepts."""
    return {
        "one_sentence": ("one sentence of ~19,000 words, no sentence end", _filled(_words(25_000) + " ")),
        "short_sentences": (f"{MAX_SENTENCES:,} sentences (the limit) of ~10 words",
                            " ".join(f"{_words(12, seed=i)[:48]}." for i in range(MAX_SENTENCES))),
        "no_spaces": ("words joined by commas, no white space: one sentence, one VADER word",
                      _filled(_words(25_000, separator=","))),
        "many_words_per_sentence": ("sentences of 60 short words, every other one a sentiment word ('a good a "
                                    "good'): the most word variants, and VADER's slowest words",
                                    _filled(" ".join(["a good"] * 30) + ". ")),
        "long_words": ("sentences of 49 words of 2,000 letters: the longest word variants",
                       _filled(" ".join(["happy" * 400] * 49) + ". ")),
        "emoji": (f"'I ' and emoji with 5- and 6-word descriptions, no space: as many as the {MAX_TEXT_WORDS:,} "
                  "words VADER may read allow (it reads each emoji as the words of its description)",
                  "I " + EMOJI * ((MAX_TEXT_WORDS - 1) // len(vader_words(EMOJI)))),
        "emoji_flood": ("'I ' and emoji, no space, to the character limit: refused (~550,000 words for VADER)",
                        "I " + _filled(EMOJI)[:MAX_TEXT_CHARS - 2]),
    }


def syllables(seconds: float, rate: int = SAMPLE_RATE, start: float = 0.0) -> np.ndarray:
    """A voice-like sound (a 140 Hz harmonic complex opened and closed four times a second): voiced throughout,
    so every second of it is classified."""
    t = start + np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12))
    return (0.3 * voice * np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 0.5 / 2.0).astype(np.float32)


def sound_file(seconds: float, *, rate: int = SAMPLE_RATE, channels: int = 1, fmt: str = "WAV",
               silent: bool = False) -> bytes:
    """Whole ``seconds`` of :func:`syllables` (or silence), written a second at a time."""
    import soundfile as sf

    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", samplerate=rate, channels=channels, format=fmt, subtype="PCM_16") as f:
        for start in range(int(seconds)):
            mono = np.zeros(rate, np.float32) if silent else syllables(1.0, rate, start)
            f.write(np.repeat(mono[:, None], channels, axis=1))
    return buffer.getvalue()


def png_of_noise(width: int, height: int) -> bytes:
    """Random pixels: the largest PNG (incompressible) and its slowest decode."""
    import cv2

    pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 1])[1].tobytes()


def jpeg_photo(width: int, height: int) -> bytes:
    """The sample face frame scaled up to a camera-sized photo (quality 95)."""
    import cv2

    photo = cv2.resize(sample_frame(), (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()


def video(seconds: float, *, width: int = 640, height: int = 480, fps: int = 30, noise: bool = False,
          sound: bool = False) -> bytes:
    """H.264 in MP4: the sample face drifting a little each frame (or random pixels, losslessly: the most bytes
    per frame), with :func:`syllables` as an AAC sound track when asked."""
    import av
    import cv2

    rng = np.random.default_rng(0)
    base = cv2.resize(sample_frame(), (width, height))
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        picture = container.add_stream("libx264", rate=fps)
        picture.width, picture.height, picture.pix_fmt = width, height, "yuv420p"
        picture.options = {"preset": "ultrafast", **({"crf": "0"} if noise else {})}
        voice = container.add_stream("aac", rate=SAMPLE_RATE) if sound else None
        if voice is not None:
            voice.layout = "mono"
            samples = syllables(seconds)
            for i in range(0, len(samples) - 1024, 1024):
                frame = av.AudioFrame.from_ndarray(samples[None, i:i + 1024], format="fltp", layout="mono")
                frame.sample_rate, frame.pts = SAMPLE_RATE, i
                container.mux(voice.encode(frame))
            container.mux(voice.encode())
        for i in range(int(seconds * fps)):
            image = (rng.integers(0, 256, (height, width, 3), dtype=np.uint8) if noise
                     else np.roll(base, (i % 40) - 20, axis=1))
            container.mux(picture.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(picture.encode())
    return buffer.getvalue()


def transcript(seconds: int) -> bytes:
    """An SRT transcript of :data:`MAX_TEXT_CHARS` characters: one cue a second, each a long run of words."""
    per_cue = MAX_TEXT_CHARS // seconds - 40
    cues = [f"{i + 1}\n00:{i // 60:02d}:{i % 60:02d},000 --> 00:{(i + 1) // 60:02d}:{(i + 1) % 60:02d},000\n"
            f"{_words(per_cue // 5, seed=i)[:per_cue]}\n" for i in range(seconds)]
    return "\n".join(cues).encode()[:MAX_TEXT_CHARS]


# ---- requests -------------------------------------------------------------------------------------------------

def multipart(files: Sequence[tuple[str, str, bytes]], fields: dict[str, str] | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body of ``(field, file name, content)`` files and plain fields."""
    boundary = uuid.uuid4().hex
    parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n".encode()
             for name, value in (fields or {}).items()]
    for name, filename, content in files:
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def as_json(payload: dict[str, Any]) -> tuple[bytes, str]:
    return json.dumps(payload).encode(), "application/json"


def _call(server: ApiServer, method: str, path: str, body: bytes | None = None,
          content_type: str | None = None) -> tuple[int, dict[str, Any]]:
    connection = server.connection(timeout=JOB_DEADLINE_S)
    headers = {"Authorization": f"Bearer {server.token}", **({"Content-Type": content_type} if content_type else {})}
    try:
        connection.request(method, f"/api/v1{path}", body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
    except (OSError, http.client.HTTPException) as exc:  # the server died or hung up
        return 0, {"error": {"message": f"no answer: {exc!r}"}}
    try:
        return response.status, json.loads(payload)
    except json.JSONDecodeError:
        return response.status, {"body": payload[:200].decode(errors="replace")}


@dataclass
class Outcome:
    status: int
    seconds: float
    detail: dict[str, Any] = field(default_factory=dict)


def post(server: ApiServer, path: str, body: tuple[bytes, str]) -> Outcome:
    """One request, timed from sending to the whole answer."""
    started = time.perf_counter()
    status, answer = _call(server, "POST", path, *body)
    seconds = time.perf_counter() - started
    detail = {"error": answer["error"]["message"][:160]} if "error" in answer else {}
    if path == "/analyze/text" and status == 200:
        detail = {"sentences": len(answer["sentences"]), "explained_sentences": answer.get("explained_sentences"),
                  "words_weighed": len(answer["words"])}
    return Outcome(status, seconds, detail)


def job(server: ApiServer, path: str, body: tuple[bytes, str]) -> Outcome:
    """Submit a job and poll it until it ends: the time to the 202 (upload and checks) and to the result."""
    started = time.perf_counter()
    status, answer = _call(server, "POST", path, *body)
    accepted = time.perf_counter() - started
    if status != 202:
        return Outcome(status, accepted, {"error": answer.get("error", answer)})
    while answer.get("status") in ("queued", "running") and time.perf_counter() - started < JOB_DEADLINE_S:
        time.sleep(0.5)
        status, answer = _call(server, "GET", f"/jobs/{answer['job_id']}")
    seconds = time.perf_counter() - started
    detail = {"accepted_after_s": round(accepted, 3), "job_status": answer.get("status")}
    result = answer.get("result") or {}
    frames = (result.get("video") or result.get("face") or {}).get("frames_analysed")
    if frames:
        detail |= {"frames": frames, "ms_per_frame": round((seconds - accepted) * 1000 / frames, 1)}
    if answer.get("error"):
        detail["error"] = answer["error"]
    return Outcome(200 if answer.get("status") == "done" else 500, seconds, detail)


# ---- measuring ------------------------------------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


@dataclass
class Watch:
    """The server's resident memory and ``/health`` latency while a case runs."""

    before_mb: float
    peak_mb: float
    health_ms: list[float] = field(default_factory=list)


@contextmanager
def watching(server: ApiServer) -> Iterator[Watch]:
    pid = server.process.pid
    watch = Watch(before_mb=rss_mb(pid), peak_mb=rss_mb(pid))
    done = threading.Event()

    def memory() -> None:
        while not done.wait(0.01):
            watch.peak_mb = max(watch.peak_mb, rss_mb(pid))

    def health() -> None:
        while not done.wait(0.25):
            started = time.perf_counter()
            try:
                connection = server.connection(timeout=JOB_DEADLINE_S)
                connection.request("GET", "/api/v1/health")
                connection.getresponse().read()
            except OSError:
                pass
            watch.health_ms.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=memory), threading.Thread(target=health)]
    for thread in threads:
        thread.start()
    try:
        yield watch
    finally:
        done.set()
        for thread in threads:
            thread.join()


def measure(server: ApiServer, name: str, endpoint: str, what: str, send: Callable[[], Outcome],
            *, size: int, repeats: int = 1) -> dict[str, Any]:
    with watching(server) as watch:
        outcomes = [send() for _ in range(repeats)]
    after = rss_mb(server.process.pid)
    case = {"case": name, "endpoint": endpoint, "input": what, "bytes": size,
            "status": sorted({o.status for o in outcomes}), "seconds": round(statistics.median(o.seconds
                                                                                              for o in outcomes), 3),
            "runs_s": [round(o.seconds, 3) for o in outcomes],
            "server_rss_mb": {"before": round(watch.before_mb), "peak_growth": round(watch.peak_mb - watch.before_mb),
                              "retained": round(after - watch.before_mb)},
            "health_max_ms": round(max(watch.health_ms, default=0.0), 1), **outcomes[-1].detail}
    print(f"{name}: {case['status']} {case['seconds']} s (runs {case['runs_s']}), peak +{case['server_rss_mb']}"
          f" MB, /health max {case['health_max_ms']} ms {outcomes[-1].detail}", flush=True)
    return case


# ---- the cases ------------------------------------------------------------------------------------------------

def text_cases(server: ApiServer, repeats: int) -> Iterator[dict[str, Any]]:
    for name, (what, text) in text_shapes().items():
        body = as_json({"text": text})
        yield measure(server, f"text_{name}", "POST /analyze/text", f"{len(text):,} characters: {what}",
                      lambda body=body: post(server, "/analyze/text", body), size=len(body[0]), repeats=repeats)


def image_cases(server: ApiServer, repeats: int) -> Iterator[dict[str, Any]]:
    width = 8_000
    height = SETTINGS.max_image_pixels // width
    noise = png_of_noise(width, height)
    for name, what, body in [
        ("image_png_noise", f"{width}x{height} PNG of random pixels, multipart",
         multipart([("image", "noise.png", noise)])),
        ("image_png_noise_base64", f"the same PNG as JSON image_base64 ({len(noise) * 4 / 3 / 2**20:,.0f} MB)",
         as_json({"image_base64": base64.b64encode(noise).decode(), "filename": "noise.png"})),
        ("image_jpeg_photo", f"{width}x{height} JPEG photo with one face, multipart",
         multipart([("image", "photo.jpg", jpeg_photo(width, height))])),
    ]:
        yield measure(server, name, "POST /analyze/image", what, lambda body=body: post(server, "/analyze/image", body),
                      size=len(body[0]), repeats=repeats)


def audio_cases(server: ApiServer) -> Iterator[dict[str, Any]]:
    sync_seconds, job_seconds = SETTINGS.max_sync_audio_seconds, SETTINGS.max_audio_seconds
    stereo_rate = MAX_SAMPLES_PER_SECOND // 2
    recording = sound_file(60)
    budget = int(SETTINGS.max_calibration_seconds // 60)
    requests = [
        ("audio_longest_sync_wav", f"{sync_seconds / 60:g} min of voice, 16 kHz mono WAV (the longest answered "
                                   "within the request)", post, {},
         [("audio", "voice.wav", sound_file(sync_seconds))]),
        ("audio_longest_sync_flac_48k_stereo", f"{sync_seconds / 60:g} min of voice, {stereo_rate // 1000} kHz "
                                               "stereo FLAC (the most samples decoded)", post, {},
         [("audio", "voice.flac", sound_file(sync_seconds, rate=stereo_rate, channels=2, fmt="FLAC"))]),
        ("audio_longest_job_wav", f"{job_seconds / 60:g} min of voice, 16 kHz mono WAV, job=true (decoded in the "
                                  "request, analysed as a job)", job, {"job": "true"},
         [("audio", "voice.wav", sound_file(job_seconds))]),
        ("audio_flac_8ch_655khz", "1 min of 8-channel 655.35 kHz silence, FLAC (refused from its header)", post, {},
         [("audio", "bomb.flac", sound_file(60, rate=655_350, channels=8, fmt="FLAC", silent=True))]),
        ("audio_calibrated", f"20 s of voice with {budget} one-minute calibration recordings (the "
                             f"{SETTINGS.max_calibration_seconds / 60:g}-minute budget)", post, {},
         [("audio", "voice.wav", sound_file(20)),
          *[("calibration", f"same-speaker-{i}.wav", recording) for i in range(budget)]]),
        ("audio_calibration_over_budget", f"20 s of voice with {budget + 1} one-minute calibration recordings "
                                          "(refused at the last one)", post, {},
         [("audio", "voice.wav", sound_file(20)),
          *[("calibration", f"same-speaker-{i}.wav", recording) for i in range(budget + 1)]]),
    ]
    for name, what, send, fields, files in requests:
        body = multipart(files, fields)
        yield measure(server, name, "POST /analyze/audio", what,
                      lambda body=body, send=send: send(server, "/analyze/audio", body), size=len(body[0]))


def job_cases(server: ApiServer) -> Iterator[dict[str, Any]]:
    per_frame = len(video(4 / 30, width=1920, height=1080, noise=True)) / 4  # lossless noise: the most bytes
    frames = int(0.95 * SETTINGS.max_upload_bytes / per_frame)
    biggest = video(frames / 30, width=1920, height=1080, noise=True)
    cases = [
        ("video_minute", "/analyze/video", "60 s of 640x480 at 30 fps with one face (H.264)",
         multipart([("video", "minute.mp4", video(60))])),
        ("video_largest_upload", "/analyze/video",
         f"{len(biggest) / 2**20:,.0f} MB: {frames} frames of 1920x1080 random pixels, lossless H.264",
         multipart([("video", "noise.mp4", biggest)])),
        ("multimodal_minute", "/analyze/multimodal",
         f"60 s of 640x480 at 30 fps with one face and voice, and a {MAX_TEXT_CHARS:,}-character SRT transcript",
         multipart([("video", "talk.mp4", video(60, sound=True)), ("transcript", "talk.srt", transcript(60))])),
    ]
    for name, path, what, body in cases:
        yield measure(server, name, f"POST {path}", what, lambda body=body, path=path: job(server, path, body),
                      size=len(body[0]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/worst_case.json"))
    parser.add_argument("--repeats", type=int, default=3, help="requests per text and image case (median)")
    parser.add_argument("--only", default="text,image,audio,jobs", help="comma-separated: text, image, audio, jobs")
    args = parser.parse_args()
    groups = {"text": lambda s: text_cases(s, args.repeats), "image": lambda s: image_cases(s, args.repeats),
              "audio": audio_cases, "jobs": job_cases}
    with api_server() as server:
        post(server, "/analyze/text", as_json({"text": "Warm up the text model."}))
        cases = [case for group in args.only.split(",") for case in groups[group](server)]
    minute = next((case for case in cases if case["case"] == "video_minute"), None)
    results = {
        "machine": machine_info(),
        "server": "python -m emotion_core serve on 127.0.0.1 (waitress, its default threads), one server for all "
                  "cases, in this order; text and image cases are the median of --repeats requests",
        "limits": {"max_upload_bytes": SETTINGS.max_upload_bytes, "max_image_pixels": SETTINGS.max_image_pixels,
                   "max_audio_seconds": SETTINGS.max_audio_seconds,
                   "max_sync_audio_seconds": SETTINGS.max_sync_audio_seconds,
                   "max_calibration_seconds": SETTINGS.max_calibration_seconds,
                   "max_video_seconds": SETTINGS.max_video_seconds, "max_jobs_per_user": SETTINGS.max_jobs_per_user,
                   "max_text_chars": MAX_TEXT_CHARS,
                   "max_sentences": MAX_SENTENCES, "max_occlusions": MAX_OCCLUSIONS,
                   "vader_words_per_call": MAX_WORDS, "vader_words_per_text": MAX_TEXT_WORDS,
                   "audio_samples_per_second": MAX_SAMPLES_PER_SECOND},
        "cases": cases,
        **({"video_at_its_limit_estimate_s": round(SETTINGS.max_video_seconds * 30 * minute["ms_per_frame"] / 1000)}
           if minute and "ms_per_frame" in minute else {}),
    }
    save_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
