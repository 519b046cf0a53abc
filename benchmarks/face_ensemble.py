"""Would the two shipped face models together reach the face targets? Their calibrated probabilities, averaged.

    python -m benchmarks.face_ensemble --fer ../shared/data/faces/fer2013 --rafdb CACHE/rafdb/DATASET
        [--out benchmarks/results/face_ensemble.json]

The VGG (48 px, FER-2013's strongest) and the MobileNetV2 (96 px, RAF-DB's strongest) read every crop as
``evaluate face --detect never`` does. The VGG's weight in the average (0, 0.1, ... 1) is chosen as the face
training chooses its epochs: on FER-2013 PublicTest and the seeded tenth of RAF-DB train that the MobileNetV2 never
trained on, pooled. FER-2013 PrivateTest and RAF-DB test are reported at every weight. The pair costs both
models' time a face (``benchmarks.face_latency`` measures each). This is the teacher a distilled student could at
best approach.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import emotion_core  # noqa: F401  (sets the Keras backend first)
from benchmarks.common import machine_info, save_results
from emotion_core.config import Settings
from emotion_core.evaluation import face_probabilities
from emotion_core.face.predictor import FacePredictor
from emotion_core.training.face.train import FaceTrainingConfig

MODELS = ("face_expression", "face_expression_mnv2")
WEIGHTS = np.round(np.linspace(0, 1, 11), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fer", type=Path, required=True, help="FER-2013's folder")
    parser.add_argument("--rafdb", type=Path, required=True, help="RAF-DB's DATASET folder")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/face_ensemble.json"))
    args = parser.parse_args()
    splits = {"PublicTest": (args.fer, "PublicTest", None), "PrivateTest": (args.fer, "PrivateTest", None),
              "rafdb_train": (args.rafdb, "train", "rafdb"), "rafdb_test": (args.rafdb, "test", "rafdb")}
    probs: dict[str, list[np.ndarray]] = {split: [] for split in splits}
    truth: dict[str, np.ndarray] = {}
    models_dir = Settings.from_env().models_dir
    ids = []
    for model in MODELS:
        predictor = FacePredictor.from_dir(models_dir, model=model)
        ids.append(predictor.model_id)
        for split, (folder, prefix, corpus) in splits.items():
            p, truth[split] = face_probabilities(folder, predictor, prefix=prefix, corpus=corpus, progress=True)
            probs[split].append(p)
    config = FaceTrainingConfig()
    held_out = np.random.default_rng(config.seed).random(len(truth["rafdb_train"])) < config.rafdb_holdout
    probs["validation"] = [np.concatenate([p, r[held_out]]) for p, r in zip(probs["PublicTest"], probs["rafdb_train"])]
    truth["validation"] = np.concatenate([truth["PublicTest"], truth["rafdb_train"][held_out]])

    def accuracy(split: str, weight: float) -> float:
        vgg, mnv2 = probs[split]
        return round(float(((weight * vgg + (1 - weight) * mnv2).argmax(1) == truth[split]).mean()), 4)

    table = {f"{w:g}": {split: accuracy(split, w) for split in ("validation", "PrivateTest", "rafdb_test")}
             for w in WEIGHTS}
    chosen = max(table, key=lambda w: table[w]["validation"])
    results = {"machine": machine_info(), "models": ids, "vgg_weight_chosen_on_validation": float(chosen),
               "at_chosen_weight": table[chosen], "by_vgg_weight": table,
               "validation": f"FER-2013 PublicTest + RAF-DB train's seeded {config.rafdb_holdout:.0%} "
                             f"({len(truth['validation'])} faces)",
               "targets": {"PrivateTest": 0.72, "rafdb_test": 0.85}}
    for w, row in table.items():
        print(f"VGG weight {w:>3}: validation {row['validation']:.4f}  PrivateTest {row['PrivateTest']:.4f}  "
              f"RAF-DB test {row['rafdb_test']:.4f}{'  (chosen)' if w == chosen else ''}")
    save_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
