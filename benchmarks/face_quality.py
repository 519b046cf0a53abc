"""How face size, blur and pose change the face model's accuracy: the measurements behind the thresholds of
:mod:`emotion_core.face.quality`, on FER-2013 PublicTest (the validation split; PrivateTest is never used).

    python -m benchmarks.face_quality --data ../shared/data/faces/fer2013/test [--out OUT.json]

- size: every face shrunk to ``s`` x ``s`` pixels (area averaging), then prepared as any crop (upscaled to 48);
- blur: every face blurred with a Gaussian of ``sigma`` pixels; the prepared face's sharpness (variance of the
  Laplacian) is recorded, and accuracy is reported by sharpness band over all blur levels together;
- pose: the nose offset (in eye distances) from BlazeFace's keypoints on the padded crop, accuracy by band.

A threshold is the point where accuracy falls more than :data:`DROP` below that of the unaltered faces: the
smallest side and the lowest sharpness band from which every band is within DROP of it, the smallest nose offset
from which every band is more than DROP below it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from benchmarks.common import machine_info, save_results
from emotion_core.config import Settings

SIZES = (8, 12, 16, 20, 24, 28, 32, 40, 48)
SIGMAS = (0.0, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)
SHARPNESS_EDGES = (0, 50, 100, 150, 200, 300, 400, 600, 1000, np.inf)
OFFSET_EDGES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, np.inf)
DROP = 0.05


def _accuracy(predictor, faces: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    correct = predictor.classify(faces).argmax(axis=1) == targets
    return round(float(correct.mean()), 4), correct


def _bands(values: np.ndarray, correct: np.ndarray, edges) -> list[dict]:
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (values >= lo) & (values < hi)
        if inside.any():
            out.append({"from": lo, "to": None if np.isinf(hi) else hi, "n": int(inside.sum()),
                        "accuracy": round(float(correct[inside].mean()), 4)})
    return out


def main() -> int:
    import cv2

    from emotion_core.datasets import find_labelled_files
    from emotion_core.face.alignment import prepare_face_crop
    from emotion_core.face.predictor import FacePredictor, locate_eyes_in_crop
    from emotion_core.face.quality import nose_offset, sharpness
    from emotion_core.labels import label_index

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="FER-2013 folder holding PublicTest_* images")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/face_quality.json"))
    args = parser.parse_args()
    predictor = FacePredictor.from_dir(Settings.from_env().models_dir)
    files = find_labelled_files(args.data, suffixes=[".jpg", ".png"], prefix="PublicTest", dataset="fer2013")
    grays = np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in files.paths])
    targets = np.array([label_index(label) for label in files.labels])
    results = {"machine": machine_info(), "data": "FER-2013 PublicTest", "n": len(targets),
               "model_id": predictor.model_id, "rule": f"threshold where accuracy falls {DROP:.0%} below unaltered"}

    size = {}
    for s in SIZES:
        small = [cv2.resize(g, (s, s), interpolation=cv2.INTER_AREA) for g in grays]
        size[s] = _accuracy(predictor, np.stack([prepare_face_crop(g, None) for g in small]), targets)[0]
    results["accuracy_by_side_px"] = size
    base = size[SIZES[-1]]
    results["min_face_side"] = min(s for s in SIZES if all(size[t] > base - DROP for t in SIZES if t >= s))

    sharp_all, correct_all, blur = [], [], {}
    for sigma in SIGMAS:
        blurred = grays if sigma == 0 else [cv2.GaussianBlur(g, (0, 0), sigma) for g in grays]
        faces = np.stack([prepare_face_crop(g, None) for g in blurred])
        accuracy, correct = _accuracy(predictor, faces, targets)
        sharp = np.array([sharpness(f) for f in faces])
        blur[sigma] = {"accuracy": accuracy, "median_sharpness": round(float(np.median(sharp)), 1)}
        sharp_all.append(sharp)
        correct_all.append(correct)
    results["blur"] = blur
    sharp_all, correct_all = np.concatenate(sharp_all), np.concatenate(correct_all)
    results["accuracy_by_sharpness"] = _bands(sharp_all, correct_all, SHARPNESS_EDGES)
    unaltered = blur[0.0]["accuracy"]
    results["min_sharpness"] = min((b["from"] for b in results["accuracy_by_sharpness"]
                                    if all(c["accuracy"] > unaltered - DROP for c in results["accuracy_by_sharpness"]
                                           if c["from"] >= b["from"])), default=None)

    offsets = []
    for g in grays:
        eyes = locate_eyes_in_crop(predictor.detector, g)
        offsets.append(np.nan if eyes is None else nose_offset(eyes.landmarks))
    offsets = np.array(offsets, dtype=float)
    _, correct = _accuracy(predictor, np.stack([prepare_face_crop(g, None) for g in grays]), targets)
    found = ~np.isnan(offsets)
    without = round(float(correct[~found].mean()), 4) if not found.all() else None
    by_offset = _bands(offsets[found], correct[found], OFFSET_EDGES)
    level = float(correct.mean()) - DROP
    results["pose"] = {"with_keypoints": int(found.sum()), "accuracy_without_keypoints": without,
                       "accuracy": round(float(correct.mean()), 4), "accuracy_by_nose_offset": by_offset}
    results["max_nose_offset"] = min((b["from"] for b in by_offset
                                      if all(c["accuracy"] < level for c in by_offset if c["from"] >= b["from"])),
                                     default=None)
    print(f"accuracy by side: {size}\nmin side {results['min_face_side']}")
    print(f"blur: {blur}\nby sharpness: {results['accuracy_by_sharpness']}\nmin sharpness {results['min_sharpness']}")
    print(f"pose: {results['pose']}\nmax nose offset {results['max_nose_offset']}")
    save_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
