"""Load test of the JSON API on 127.0.0.1: a real `serve` process, concurrent clients, image requests.

    python -m benchmarks.api_load [--clients 8] [--requests 2000] [--out benchmarks/results/api_load.json]

Each request posts the same 640x480 JPEG with one face (multipart) to /api/v1/analyze/image with a bearer
token; the server detects, classifies and stores every analysis in its SQLite history, as in production.
Latency is measured by the clients, from sending to the full answer.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from benchmarks.common import machine_info, sample_frame, save_results


def multipart(jpeg: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"frame.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode() + jpeg + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def main() -> int:
    import cv2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--server-threads", type=int, help="waitress threads (default: serve's own default)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/api_load.json"))
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="emotion-lens-load-"))
    env = {**os.environ, "EMOTION_LENS_HOME": str(home)}
    run = [sys.executable, "-m", "emotion_core"]
    subprocess.run([*run, "users", "add", "load", "--role", "admin"], input="x" * 12 + "\n", text=True, env=env,
                   check=True, capture_output=True)
    token = subprocess.run([*run, "token", "create", "--user", "load"], env=env, check=True, capture_output=True,
                           text=True).stdout.strip()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    threads = ["--threads", str(args.server_threads)] if args.server_threads else []
    server = subprocess.Popen([*run, "serve", "--host", "127.0.0.1", "--port", str(port), *threads], env=env,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/api/v1/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        ok, jpeg = cv2.imencode(".jpg", sample_frame(), [cv2.IMWRITE_JPEG_QUALITY, 90])
        body, content_type = multipart(jpeg.tobytes())
        headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
        latencies, errors, lock = [], [], threading.Lock()
        remaining = iter(range(args.requests))

        def client() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in remaining:
                start = time.perf_counter()
                try:
                    connection.request("POST", "/api/v1/analyze/image", body=body, headers=headers)
                    response = connection.getresponse()
                    payload = response.read()
                    failed = response.status != 200 or b'"label": "' not in payload and b'"label":"' not in payload
                except (OSError, http.client.HTTPException) as exc:
                    failed, payload = True, str(exc).encode()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    latencies.append(elapsed)
                    if failed:
                        errors.append(payload[:200].decode(errors="replace"))

        for _ in range(20):  # warm-up, not counted
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", "/api/v1/analyze/image", body=body, headers=headers)
            connection.getresponse().read()
        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(10)
    results = {
        "machine": machine_info(), "clients": args.clients,
        "server_threads": args.server_threads or f"serve's default, one per core ({os.cpu_count()})",
        "requests": len(latencies), "errors": len(errors),
        "error_examples": errors[:5], "seconds": round(seconds, 2),
        "requests_per_second": round(len(latencies) / seconds, 1),
        "latency_ms": {"median": round(float(np.median(latencies)), 1), "p95": round(float(np.percentile(latencies,
                                                                                                          95)), 1),
                       "max": round(float(np.max(latencies)), 1)},
        "request": "POST /api/v1/analyze/image, 640x480 JPEG (quality 90) with one face, saved to SQLite",
    }
    print(f"{results['requests']} requests, {results['errors']} errors, {results['requests_per_second']} req/s, "
          f"median {results['latency_ms']['median']} ms, p95 {results['latency_ms']['p95']} ms")
    save_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
