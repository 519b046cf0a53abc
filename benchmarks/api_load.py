"""Load test of the JSON API on 127.0.0.1: a real `serve` process, concurrent clients, image requests.

    python -m benchmarks.api_load [--clients 8] [--requests 2000] [--detector blazeface]
        [--out benchmarks/results/api_load.json]

Each request posts the same 640x480 JPEG with one face (multipart) to /api/v1/analyze/image with a bearer
token; the server detects (with the photo detector, MTCNN, unless ``--detector`` names another), classifies and
stores every analysis in its SQLite history, as in production.
Latency is measured by the clients, from sending to the full answer.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from benchmarks.common import api_server, machine_info, sample_frame, save_results


def multipart(jpeg: bytes, fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                   for name, value in fields.items()).encode()
    body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"frame.jpg\"\r\n"
             "Content-Type: image/jpeg\r\n\r\n").encode() + jpeg + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def main() -> int:
    import cv2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--server-threads", type=int, help="waitress threads (default: serve's own default)")
    parser.add_argument("--detector", help="the request's detector field (default: none, the API's photo detector)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/api_load.json"))
    args = parser.parse_args()

    threads = ["--threads", str(args.server_threads)] if args.server_threads else []
    with api_server(*threads) as server:
        ok, jpeg = cv2.imencode(".jpg", sample_frame(), [cv2.IMWRITE_JPEG_QUALITY, 90])
        body, content_type = multipart(jpeg.tobytes(), {"detector": args.detector} if args.detector else {})
        headers = {"Authorization": f"Bearer {server.token}", "Content-Type": content_type}
        latencies, errors, lock = [], [], threading.Lock()
        remaining = iter(range(args.requests))

        def client() -> None:
            connection = server.connection()
            for _ in remaining:
                start = time.perf_counter()
                try:
                    connection.request("POST", "/api/v1/analyze/image", body=body, headers=headers)
                    response = connection.getresponse()
                    payload = response.read()
                    failed = response.status != 200 or b'"label": "' not in payload and b'"label":"' not in payload
                except (OSError, http.client.HTTPException) as exc:
                    failed, payload = True, str(exc).encode()
                    connection = server.connection()
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    latencies.append(elapsed)
                    if failed:
                        errors.append(payload[:200].decode(errors="replace"))

        for _ in range(20):  # warm-up, not counted
            connection = server.connection()
            connection.request("POST", "/api/v1/analyze/image", body=body, headers=headers)
            connection.getresponse().read()
        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
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
        "detector": args.detector or "the API's default (the photo detector)",
    }
    print(f"{results['requests']} requests, {results['errors']} errors, {results['requests_per_second']} req/s, "
          f"median {results['latency_ms']['median']} ms, p95 {results['latency_ms']['p95']} ms")
    save_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
