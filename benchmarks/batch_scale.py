"""How ``batch`` scales: the same generated archive with 1 and 2 local workers, and on a two-node Ray cluster.

The archive holds face photos (skimage's astronaut, shifted and scaled), short face videos made of them, speech-like
audio (a voiced harmonic source with a moving pitch, in syllable bursts) and a table of texts. Nothing is
downloaded. Run from the project root::

    python -m benchmarks.batch_scale --json benchmarks/results/batch_scale.json

The cluster part starts ``ray start --head --num-cpus 1`` and a second ``ray start --address ... --num-cpus 1``
on this host (two raylets: two nodes as Ray sees them), runs the archive with ``--ray-address``, and stops
them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import command_line, machine_info, save_results

SAMPLE_RATE = 16_000
TEXTS = ("I am so happy to see you again, this is wonderful!",
         "This is terrible, I am furious about what they did.",
         "I'm scared, something is moving in the dark.",
         "The meeting is at ten tomorrow in room four.",
         "That smell is disgusting, I can't stand it.",
         "Oh wow, I did not expect that at all!",
         "I miss her so much, everything feels empty.")


def face_image(variant: int = 0) -> np.ndarray:
    """A 640x480 BGR photo with one face (skimage's astronaut), shifted and scaled a little per variant, and the
    variant's number in a corner, so that no two variants are the same file."""
    import cv2

    from emotion_core.timing import sample_frame

    frame = sample_frame()
    scale = 1.0 - 0.04 * (variant % 4)
    shift = np.float32([[scale, 0, 8 * (variant % 5)], [0, scale, 6 * (variant % 3)]])
    image = cv2.warpAffine(frame, shift, (frame.shape[1], frame.shape[0]), borderValue=(96, 96, 96))
    cv2.putText(image, f"#{variant}", (8, 470), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (200, 200, 200))  # every one unique
    return image


def write_video(path: Path, *, seconds: float, fps: int = 10, variant: int = 0) -> None:
    """An MPEG-4 video of the face drifting slowly (OpenCV's writer)."""
    import cv2

    base = face_image(variant)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (base.shape[1], base.shape[0]))
    for i in range(int(seconds * fps)):
        shift = np.float32([[1, 0, 2 * np.sin(i / 5)], [0, 1, 2 * np.cos(i / 7)]])
        writer.write(cv2.warpAffine(base, shift, (base.shape[1], base.shape[0]), borderValue=(96, 96, 96)))
    writer.release()


def speech_like(seconds: float, *, seed: int = 0) -> np.ndarray:
    """16 kHz mono float32: a harmonic source (pitch 110-220 Hz, moving) in 4-per-second syllables, with pauses."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pitch = 150 + 40 * np.sin(2 * np.pi * 0.7 * t + seed) + 20 * np.sin(2 * np.pi * 3.1 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 0.5
    pauses = (np.sin(2 * np.pi * 0.25 * t + seed) > -0.6).astype(float)
    signal = voice * syllables * pauses + 0.01 * rng.standard_normal(len(t))
    return (0.3 * signal / np.abs(signal).max()).astype(np.float32)


def make_archive(root: Path, *, images: int = 2, videos: int = 1, audios: int = 1, texts: int = 3,
                 video_seconds: float = 1.0, audio_seconds: float = 3.0, broken: bool = True) -> Path:
    """Write a mixed archive under ``root``: photos, videos, wav files, ``texts.csv`` (column ``text``) and, with
    ``broken``, a truncated JPEG and a file of an unsupported kind. Returns ``root``."""
    import cv2
    import soundfile

    for folder in ("photos", "videos", "audio"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for i in range(images):
        cv2.imwrite(str(root / "photos" / f"face_{i:03d}.jpg"), face_image(i))
    for i in range(videos):
        write_video(root / "videos" / f"clip_{i:03d}.mp4", seconds=video_seconds, variant=i)
    for i in range(audios):
        soundfile.write(root / "audio" / f"talk_{i:03d}.wav", speech_like(audio_seconds, seed=i), SAMPLE_RATE)
    if texts:
        import pandas as pd

        pd.DataFrame({"id": range(1, texts + 1), "text": [TEXTS[i % len(TEXTS)] for i in range(texts)]}).to_csv(
            root / "texts.csv", index=False)
    if broken:
        whole = cv2.imencode(".jpg", face_image(99))[1].tobytes()
        (root / "photos" / "broken.jpg").write_bytes(whole[: len(whole) // 3])
        (root / "notes.docx").write_bytes(b"PK\x03\x04 not a document this app reads")
    return root


def _batch(archive: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """One ``batch`` run in a fresh process (as a user runs it); the manifest's entry for it."""
    command = [sys.executable, "-m", "emotion_core", "batch", str(archive), "--out", str(out), *extra]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{done.stderr[-3000:]}")
    run = json.loads((out / "manifest.json").read_text())["latest"]
    work = sum(kind["compute_s"] for kind in run["per_kind"].values())
    print(done.stderr.strip().splitlines()[-1], flush=True)
    return {"command": shlex.join(command), "process_s": round(time.perf_counter() - started, 3),
            "wall_s": run["wall_s"], "planning_s": run["planning_s"], "counts": run["counts"],
            "per_kind": run["per_kind"], "throughput": run["throughput"], "cluster": run["cluster"],
            "cpu_share_while_working": round(sum(k["cpu_s"] for k in run["per_kind"].values()) / work, 3),
            "load_average_after": [round(x, 2) for x in os.getloadavg()]}


@contextlib.contextmanager
def two_node_cluster(port: int, env: dict[str, str]) -> Iterator[str]:
    """``ray start --head --num-cpus 1`` and ``ray start --address ... --num-cpus 1`` on this host, in the
    foreground (``--block``), so that stopping them touches only these two and what they started."""
    ray = str(Path(sys.executable).with_name("ray"))
    address = f"127.0.0.1:{port}"
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--object-store-memory", str(200 * 2**20),
              "--block"]
    logs = Path(tempfile.mkdtemp(prefix="emotion-lens-ray-"))
    nodes = [subprocess.Popen([ray, "start", "--head", "--port", str(port), "--include-dashboard", "false", *common],
                              stdout=(logs / "head.log").open("w"), stderr=subprocess.STDOUT, env=env)]
    try:
        _wait_for_nodes(ray, address, 1, env)
        nodes.append(subprocess.Popen([ray, "start", "--address", address, *common],
                                      stdout=(logs / "worker.log").open("w"), stderr=subprocess.STDOUT, env=env))
        _wait_for_nodes(ray, address, 2, env)
        yield address
    finally:
        for node in reversed(nodes):
            node.terminate()  # `ray start --block` stops its own processes on SIGTERM
            try:
                node.wait(timeout=90)
            except subprocess.TimeoutExpired:
                node.kill()


def _wait_for_nodes(ray: str, address: str, count: int, env: dict[str, str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = subprocess.run([ray, "status", "--address", address], capture_output=True, text=True, env=env)
        if status.returncode == 0 and status.stdout.count(" node_") >= count:
            return
        time.sleep(2)
    raise RuntimeError(f"the Ray cluster at {address} did not reach {count} node(s) in {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--video-seconds", type=float, default=6.0)
    parser.add_argument("--audios", type=int, default=8)
    parser.add_argument("--audio-seconds", type=float, default=6.0)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--stride", type=int, default=2)
    parser.add_argument("--part-seconds", type=float, default=3.0, help="video parts (each video in two)")
    parser.add_argument("--part-rows", type=int, default=250, help="table parts")
    parser.add_argument("--port", type=int, default=6391, help="the head node's port for the cluster run")
    parser.add_argument("--skip-cluster", action="store_true")
    parser.add_argument("--repeats", type=int, default=2, help="rounds of every set-up; the fastest of each counts")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="emotion-lens-batch-"))
    archive = make_archive(work / "archive", images=args.images, videos=args.videos, audios=args.audios,
                           texts=args.texts, video_seconds=args.video_seconds, audio_seconds=args.audio_seconds,
                           broken=True)
    load_before = [round(x, 2) for x in os.getloadavg()]
    common = ("--stride", str(args.stride), "--part-seconds", str(args.part_seconds), "--part-rows",
              str(args.part_rows))
    configs = {"local_1_worker": ("--workers", "1"), "local_2_workers": ("--workers", "2")}
    tries: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
    with contextlib.ExitStack() as stack:
        if not args.skip_cluster:
            env = {**os.environ, "RAY_AUTH_MODE": "token"}  # the nodes and the driver share ~/.ray/auth_token
            address = stack.enter_context(two_node_cluster(args.port, env))
            configs["cluster_2_nodes"] = ("--ray-address", address)
            tries["cluster_2_nodes"] = []
        for round_ in range(args.repeats):  # interleaved, so that a burst of outside load hits every set-up alike
            for name, extra in configs.items():
                tries[name].append(_batch(archive, work / f"{name}-{round_}", *extra, *common,
                                          env={"RAY_AUTH_MODE": "token"} if name.startswith("cluster") else None))
    runs = {name: min(found, key=lambda run: run["wall_s"]) for name, found in tries.items()}
    one, one_analysis = runs["local_1_worker"]["wall_s"], runs["local_1_worker"]["cluster"]["analysis_s"]
    results = {
        "benchmark": "batch_scale",
        "command": command_line(argv),
        "machine": machine_info(),
        "note": "load_average_before/after: processes wanting the cores around the runs. wall_s: the whole "
                "command (hashing, planning, "
                "Ray start-up, model loading in every actor, analysis, tables); analysis_s: from the Ray Data "
                "pipeline's start to its last result (actor start-up and model loading included); speedups are "
                "the 1-worker time over the other's, each the fastest of its repeats (run interleaved). "
                "cpu_share_while_working: the workers' CPU seconds over their wall "
                "seconds (1.0: a worker had its core all the time)",
        "archive": {"images": args.images, "videos": args.videos, "video_seconds": args.video_seconds,
                    "audios": args.audios, "audio_seconds": args.audio_seconds, "texts": args.texts,
                    "broken_files": 2, "stride": args.stride},
        "load_average_before": load_before,  # 1, 5 and 15 minutes: processes wanting the 2 cores
        "repeats": args.repeats,
        "runs": runs,  # the fastest of the repeats of each set-up
        "wall_s_of_every_repeat": {name: [run["wall_s"] for run in found] for name, found in tries.items()},
        "speedup_2_workers": round(one / runs["local_2_workers"]["wall_s"], 3),
        "speedup_2_workers_analysis": round(one_analysis / runs["local_2_workers"]["cluster"]["analysis_s"], 3),
    }
    if "cluster_2_nodes" in runs:
        results["speedup_2_nodes"] = round(one / runs["cluster_2_nodes"]["wall_s"], 3)
        results["speedup_2_nodes_analysis"] = round(one_analysis / runs["cluster_2_nodes"]["cluster"]["analysis_s"], 3)
    results["seconds_per_part_1_worker"] = {kind: round(entry["compute_s"] / entry["parts"], 4)
                                            for kind, entry in runs["local_1_worker"]["per_kind"].items()}
    print(json.dumps({k: results[k] for k in results if k.startswith("speedup")}))
    if args.json:
        save_results(results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
