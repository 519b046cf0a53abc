"""What the command families share: JSON and report printing, the command line as cards record it, the model
options and the face predictor they choose."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from emotion_core.config import Settings


def write_json(data: Any, target: str | None) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if target in (None, "-"):
        print(text)
    else:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)


def print_report(report: dict[str, Any]) -> None:
    print(f"n={report['n']}  accuracy={report['accuracy']:.4f}  macro_f1={report['macro_f1']:.4f}  "
          f"uar={report['uar']:.4f}  ms_per_item={report['ms_per_item']:.2f}  skipped={len(report['skipped'])}")
    print(f"{'label':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for label, row in report["per_class"].items():
        print(f"{label:<10}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}{row['support']:>10}")
    if doubtful := report.get("uncertain"):
        print(f"uncertain: {doubtful['share']:.1%} of the results (accuracy {doubtful['accuracy_uncertain']}); "
              f"the others' accuracy {doubtful['accuracy_trusted']}")


def invocation(args: argparse.Namespace) -> str:
    """The command line that ran, as cards and figures record it."""
    return "python -m emotion_core " + " ".join(shlex.quote(a) for a in args.argv)



def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--model-dir``, ``--face-model`` and ``--detector``, as analyze, batch and evaluate face take them."""
    from emotion_core.face.detection import available_detectors

    parser.add_argument("--model-dir", type=Path, help="folder with the models and cards (default: models/)")
    parser.add_argument("--face-model", default="face_expression",
                        help="face_expression (our CNN, default) or seed002_hybrid (MobileNetV2 + LBP + Random Forest)")
    parser.add_argument("--detector", choices=available_detectors(),
                        help="face detector (default: mtcnn for photos, blazeface for video frames)")


def face_predictor(args: argparse.Namespace, settings: Settings, *, photos: bool):
    """The face model and detector of the command's options; the default detector is the photos' or the video's."""
    from emotion_core.predictors import load_face_predictor, load_predictors

    detector = args.detector or (settings.photo_detector if photos else settings.face_detector)
    if args.model_dir:  # a model of one's own (a training run's folder), with a shipped detector
        from emotion_core.face.detection import load_detector

        return load_face_predictor(args.model_dir, model=args.face_model,
                                   detector=load_detector(detector, models_dir=settings.models_dir))
    return load_predictors(settings).face(args.face_model, detector=detector)

