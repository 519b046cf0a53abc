"""Measure where FER-2013 puts the face relative to each detector's box (the FRAMINGS in alignment.py).

    python -m scripts.calibrate_face_crop --data ../shared/data/faces/fer2013 [--n 1500]

Each 48x48 training crop is padded (BlazeFace) or enlarged and padded (Haar needs faces over 24 px) so that
the detector sees a whole face; the side of the FER square over the box width, and the vertical offset of the
FER centre from the box centre (in box widths), are collected and their medians printed.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

from emotion_core.config import Settings
from emotion_core.face.detection import available_detectors, load_detector
from emotion_core.media import read_image

# Enlargement before padding: BlazeFace sees the crop as it is, Haar's smallest window needs it bigger.
ENLARGE = {"blazeface": 1, "blazeface-short": 1, "mtcnn": 1, "haar": 3}


def measure(detector, paths: list[Path], enlarge: int) -> tuple[np.ndarray, float]:
    import cv2

    ratios, found = [], 0
    for path in paths:
        gray = read_image(path)[:, :, 0]
        gray = cv2.resize(gray, None, fx=enlarge, fy=enlarge, interpolation=cv2.INTER_CUBIC)
        side = gray.shape[0]
        canvas = cv2.copyMakeBorder(gray, side, side, side, side, cv2.BORDER_CONSTANT, value=0)
        faces = detector.detect(cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR))
        if not faces:
            continue
        found += 1
        x, y, w, h = faces[0].box
        x, y = x - side, y - side
        ratios.append((side / w, (side / 2 - (y + h / 2)) / w))
    return np.array(ratios), found / len(paths)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--n", type=int, default=1500)
    args = parser.parse_args()
    paths = sorted(args.data.glob("train/*/Training_*.jpg"))
    random.Random(0).shuffle(paths)
    models_dir = Settings.from_env().models_dir
    for name in available_detectors():
        ratios, found = measure(load_detector(name, models_dir=models_dir), paths[: args.n], ENLARGE[name])
        scale, shift_y = np.median(ratios, axis=0)
        print(f"{name:16} found {found:.0%}  Framing(scale={scale:.2f}, shift_y={shift_y:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
