"""Face detection you can trust: faces found by size and framing, false faces without one, cost per frame.

    python -m benchmarks.detection --rafdb RAFDB/DATASET [--fer ../shared/data/faces/fer2013] [--ferplus FERPLUS/data]
        [--split test] [--faces 600] [--repeats 30] [--non-faces 4000] [--baseline REV]
        [--out benchmarks/results/detection.json]
    python -m benchmarks.detection --rafdb RAFDB/DATASET --split train --sweep \\
        --out benchmarks/results/detection_sweep.json   (--detectors mtcnn: detection_sweep_mtcnn.json)
    python -m benchmarks.detection --rafdb RAFDB/DATASET --ferplus FERPLUS/data --split train --judge-sweep \
        --detectors mtcnn --out benchmarks/results/detection_judge_sweep.json
    python -m benchmarks.detection --rafdb RAFDB/DATASET --detectors haar --faces 100 --repeats 5 \\
        --non-faces 1000 --pan-frames 4 --out benchmarks/results/detection_haar.json   (the cascade is slow)
    python -m benchmarks.detection --rafdb RAFDB/DATASET --ferplus FERPLUS/data --detectors mtcnn \
        --out benchmarks/results/detection_mtcnn.json   (--seed 7: detection_mtcnn_seed7.json, a fresh draw;
        --seed 11: detection_mtcnn_seed11.json, a third)

For each detector (BlazeFace full range, the default; BlazeFace short range; MTCNN; OpenCV's Haar cascade) at its
shipped thresholds, photos go through emotion_core.face.search.find_faces as every surface runs it (the detector, then
the close-up looks), video frames through the detector alone and the face tracker, as analyze VIDEO runs them:

- faces: FER-2013 PrivateTest and RAF-DB test crops (half each; --split train draws from the training sets; with
  --ferplus, less the FER-2013 pictures that FER+'s voters took for no face, such as blank frames) as
  tight crops (48 and 100 px) and as 400x400 headshots, each as is, mirrored and rolled by 30 degrees either
  way; the same crops pasted with feathered edges into 640x480 views of scenes, at face sizes of 24 to 480 px
  (the side of the face square), at random places and in a random transform; and, as faces with their heads,
  scikit-image's astronaut and cameraman pasted the same way (--repeats times per size). A face counts as found
  when a box's centre lies in its square and the box's side is 0.4 to 2.5 times the square's.
- false faces: images without a face (views of scikit-image's and scikit-learn's photos without a person, the
  LFW subset's non-face patches, generated clutter; 32 to 640 px wide), per 1,000; 640x480 frames of a camera
  panning across the scenes, per 1,000 frames; and those frames as an H.264 clip through analyze_video: its
  face rows.
- a clip of the astronaut's face drifting across a scene: the frame its face is first shown, and the share of
  frames that show it.
- per frame: the detector and the photo search on a 640x480 frame with one face and on one without, median and
  95th percentile; with --baseline, the detectors of that commit too, timed in turns with ours.

--timing-only measures the cost per frame alone, to repeat it on a busy machine. --sweep records, for the
BlazeFaces and MTCNN, false faces and faces found at a range of thresholds for the detector's own look and for the
close-up looks' mean: the measurement behind the shipped thresholds; --judge-sweep, the thresholds of the
whole-image judge that settles the close-ups' doubtful votes.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

import emotion_core  # noqa: F401  (sets the Keras backend first)
from benchmarks import detection_data as data
from benchmarks.common import machine_info, sample_frame, save_results
from emotion_core.config import Settings
from emotion_core.face.detection import available_detectors, load_detector
from emotion_core.face.predictor import FacePredictor
from emotion_core.face.search import (
    CLOSE_UP_CANDIDATES,
    CLOSE_UP_SCORE,
    JUDGED_VOTES,
    close_up_holds_face,
    find_faces,
    rolled_close_up,
    turned_faces,
)
from emotion_core.face.tracking import CONFIRM_HITS, CONFIRM_SCORE
from emotion_core.face.video import analyze_video

FACE_SIZES = (24, 32, 40, 48, 64, 96, 128, 192, 256, 320, 400, 480)
SEEDS = {"train": 1, "test": 0}
SWEEP_THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 0.95, 0.98)


def on_face(box: tuple[int, int, int, int], square: tuple[float, float, float]) -> bool:
    x, y, side = square
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return x <= cx <= x + side and y <= cy <= y + side and 0.4 * side <= max(box[2], box[3]) <= 2.5 * side


def per_thousand(count: int, total: int) -> float:
    return round(1000 * count / max(1, total), 2)


def face_groups(face: data.FaceImage) -> list[str]:
    """The tallies a face image counts in."""
    if face.framing != "in scene":
        return [face.framing, f"{face.framing}, {face.transform}", f"{face.framing}, {face.source}"]
    kind = "head in frame" if face.source in ("astronaut", "cameraman") else "data-set crop in frame"
    groups = [kind, f"{kind}, {face.size} px"]
    if face.size >= 40:
        groups.append(f"{kind}, 40 px and more")
    return groups


def faces_found(detector, faces: Iterable[data.FaceImage]) -> dict[str, dict[str, Any]]:
    """Per tally: faces, the share found by the search, by the detector's own look, and how they were found."""
    tallies: dict[str, Counter] = defaultdict(Counter)
    for face in faces:
        found = [f for f in find_faces(detector, face.image) if on_face(f.box, face.face)]
        for group in face_groups(face):
            tally = tallies[group]
            tally["n"] += 1
            tally["found"] += bool(found)
            tally["by the detector alone"] += any(f.method == "detector" for f in found)
            if found:
                tally[found[0].method] += 1
    return {group: {"n": t["n"], "found": round(t["found"] / t["n"], 4),
                    "found by the detector alone": round(t["by the detector alone"] / t["n"], 4),
                    "how": {m: t[m] for m in ("detector", "close-up", "whole image") if t[m]}}
            for group, t in sorted(tallies.items())}


def false_faces(detector, images: Iterable[tuple[str, np.ndarray]], frames: Iterable[np.ndarray]) -> dict[str, Any]:
    """False faces per 1,000 images (the photo search) and per 1,000 frames (the detector alone)."""
    kinds: dict[str, Counter] = defaultdict(Counter)
    for kind, image in images:
        faces = find_faces(detector, image)
        for tally in (kinds["all"], kinds[kind]):
            tally["n"] += 1
            tally["false"] += bool(faces)
            if faces:
                tally[faces[0].method] += 1
    fired = [bool(detector.detect(frame)) for frame in frames]
    return {"images": {kind: {"n": t["n"], "with a false face": t["false"],
                              "per 1000": per_thousand(t["false"], t["n"]),
                              "how": {m: t[m] for m in ("detector", "close-up", "whole image") if t[m]}}
                       for kind, t in sorted(kinds.items())},
            "frames": {"n": len(fired), "with a false face": sum(fired),
                       "per 1000": per_thousand(sum(fired), len(fired))}}


def clips(predictor: FacePredictor, empty_clip: bytes, face_clip: bytes) -> dict[str, Any]:
    """Face rows of the clip without a face, and when the face of the other clip is first shown."""
    empty = analyze_video(empty_clip, predictor, name="pan.mp4", annotate=False)
    face = analyze_video(face_clip, predictor, name="face.mp4", annotate=False)
    shown = [frame.index for frame in face.frames if frame.faces]
    return {"no-face clip": {"frames": empty.frames_analysed,
                             "face rows": sum(len(frame.faces) for frame in empty.frames)},
            "face clip": {"frames": face.frames_analysed, "first frame shown": shown[0] if shown else None,
                          "share of frames shown": round(len(set(shown)) / face.frames_analysed, 4)}}


def timings(functions: dict[str, Callable[[], object]], *, repeats: int) -> dict[str, dict]:
    """Median and 95th percentile in ms of each function, called in turn ``repeats`` times so that the changing
    load of a shared machine falls on all of them alike."""
    samples: dict[str, list[float]] = defaultdict(list)
    for function in functions.values():
        for _ in range(10):
            function()
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: {"median_ms": round(float(np.median(s)), 3), "p95_ms": round(float(np.percentile(s, 95)), 3),
                   "repeats": len(s)} for name, s in samples.items()}


def baseline_detection(revision: str):
    """``emotion_core.face.detection`` as it was at ``revision`` (``emotion_core.detection`` before the modality
    sub-packages), loaded beside ours."""
    files = subprocess.run(["git", "ls-tree", "-r", "--name-only", revision], check=True, capture_output=True,
                           text=True).stdout.split()
    module_path = next(f for f in ("emotion_core/face/detection.py", "emotion_core/detection.py") if f in files)
    source = subprocess.run(["git", "show", f"{revision}:{module_path}"], check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_detection.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_detection", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def per_frame_costs(name: str, detector, models_dir: Path, baseline, repeats: int,
                    empty_frame: np.ndarray) -> dict[str, Any]:
    frames = {"face": sample_frame(), "no face": empty_frame}
    functions = {}
    for kind, frame in frames.items():
        functions[f"{kind}: detector (video frames)"] = lambda f=frame: detector.detect(f)
        functions[f"{kind}: search (photos)"] = lambda f=frame: find_faces(detector, f)
        if baseline is not None:
            old = baseline.load_detector(name, models_dir=models_dir)
            functions[f"{kind}: baseline detector"] = lambda f=frame, d=old: d.detect(f)
    return timings(functions, repeats=repeats)


def sweep(names: list[str], models_dir: Path, tight: Callable[[], Iterable[data.FaceImage]],
          heads: Callable[[], Iterable[data.FaceImage]], images: Callable[[], Iterable[tuple[str, np.ndarray]]],
          frames: Callable[[], Iterable[np.ndarray]]) -> dict[str, Any]:
    """False faces and faces found at each threshold, for the detector's own look and the close-up looks (the
    arguments make the images afresh each time they are called)."""
    from emotion_core.face.detection import BlazeFaceDetector, MTCNNDetector

    out: dict[str, Any] = {}
    for name in names:
        candidates = (MTCNNDetector.from_dir(models_dir, min_score=0.3) if name == "mtcnn" else
                      BlazeFaceDetector.from_dir(models_dir, variant="full" if name == "blazeface" else "short",
                                                 min_score=0.3))

        def best(image, square=None, detector=candidates):
            return max((f.score for f in detector.detect(image) if square is None or on_face(f.box, square)),
                       default=0.0)

        image_scores = [best(image) for _, image in images()]
        frame_scores = [best(frame) for frame in frames()]
        head_scores = [(face.size, best(face.image, face.face)) for face in heads()]
        out[name] = {"detector's look": {f"{t:.2f}": {
            "false faces per 1000 images": per_thousand(sum(s >= t for s in image_scores), len(image_scores)),
            "false faces per 1000 frames": per_thousand(sum(s >= t for s in frame_scores), len(frame_scores)),
            "heads in frame found": {size: round(float(np.mean([s >= t for z, s in head_scores if z == size])), 3)
                                     for size in sorted({z for z, _ in head_scores})},
        } for t in SWEEP_THRESHOLDS}}
    detector = load_detector("blazeface", models_dir=models_dir)
    tight_votes = [(face.transform, rolled_close_up(detector, face.image, enough=np.inf)[1]) for face in tight()]
    image_votes = [rolled_close_up(detector, image, enough=np.inf)[1] for _, image in images()]
    out["close-up looks (BlazeFace short range and O-Net)"] = {f"{t:.2f}": {
        "false faces per 1000 images": per_thousand(sum(v >= t for v in image_votes), len(image_votes)),
        "tight crops and headshots found": {
            transform: round(float(np.mean([v >= t for tr, v in tight_votes if tr == transform])), 4)
            for transform in data.TRANSFORMS},
    } for t in SWEEP_THRESHOLDS}
    return out


JUDGE_SWEEP = {"doubtful vote": (0.3, 0.35, 0.4), "judge": (0.5, 0.7, 0.8), "sure judge": (0.9, 0.95, None)}
"""The grid of :func:`judge_sweep`: rows of :data:`JUDGED_VOTES` - a doubtful vote accepted from a judge's
probability, and optionally a vote of 0.1 from a sure judge's - above the veto row as shipped."""


def judge_sweep(detector, tight: Iterable[data.FaceImage], images: Iterable[tuple[str, np.ndarray]]
                ) -> dict[str, Any]:
    """Faces found among tight crops and headshots, and false faces, as the photo search finds them, for each
    rule of the :data:`JUDGE_SWEEP` grid by which the whole-image judge settles close-ups' votes (see
    :data:`JUDGED_VOTES`)."""
    def stage(image, square=None):
        """(found by the detector, the close-up's vote or None, the judge's probability)"""
        faces = detector.detect(image) or turned_faces(detector, image)
        if faces:
            return any(square is None or on_face(f.box, square) for f in faces), None, None
        face, vote = rolled_close_up(detector, image)
        on = face is not None and (square is None or on_face(face.box, square))
        return False, vote if on else 0.0, detector.judge.probability(image)

    def holds(found, vote, probability, judged_votes):
        return found if vote is None else close_up_holds_face(vote, lambda: probability, judged_votes=judged_votes)

    faces = [stage(face.image, face.face) for face in tight]
    others = [stage(image) for _, image in images]
    veto = JUDGED_VOTES[-1]
    rules = {"without the judge": ((0.0, CLOSE_UP_SCORE),)}
    for needed, judged_face, sure in itertools.product(*JUDGE_SWEEP.values()):
        rows = ((sure, 0.1),) if sure else ()
        rules[f"vote {needed} from {judged_face}" + (f", 0.1 from {sure}" if sure else "")] = (
            *rows, (judged_face, needed), veto)
    grid = {name: {"rows": rows,
                   "tight crops and headshots found": round(float(np.mean([holds(*f, rows) for f in faces])), 4),
                   "false faces per 1000 images": per_thousand(sum(holds(*o, rows) for o in others), len(others))}
            for name, rows in rules.items()}
    return {"detector": detector.name, "grid": grid}


def main() -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fer", type=Path, default=settings.data_dir / "faces" / "fer2013",
                        help="the FER-2013 folder (default: $EMOTION_DATA_DIR/faces/fer2013)")
    parser.add_argument("--rafdb", type=Path, help="RAF-DB basic's DATASET folder ({train,test}/{1..7}/*.jpg)")
    parser.add_argument("--ferplus", type=Path, help="FER+'s data folder (FER2013*/label.csv and images): FER-2013 "
                                                     "pictures its voters took for no face are left out")
    parser.add_argument("--split", choices=tuple(SEEDS), default="test")
    parser.add_argument("--seed", type=int, help="draw other crops, pastes and views than the split's own seed "
                                                 "does (a draw nothing was chosen on)")
    parser.add_argument("--faces", type=int, default=600, help="data-set crops, half from each set")
    parser.add_argument("--repeats", type=int, default=30, help="pastes of each head per size")
    parser.add_argument("--non-faces", type=int, default=4000)
    parser.add_argument("--pan-frames", type=int, default=20, help="frames of the pan clip per scene")
    parser.add_argument("--detectors", default=",".join(available_detectors()))
    parser.add_argument("--timing-repeats", type=int, default=300)
    parser.add_argument("--baseline", help="a commit whose detectors are timed beside ours")
    parser.add_argument("--sweep", action="store_true", help="only the threshold sweep (BlazeFace, MTCNN)")
    parser.add_argument("--judge-sweep", action="store_true",
                        help="only the sweep of the whole-image judge's thresholds (first of --detectors)")
    parser.add_argument("--timing-only", action="store_true", help="only the cost per frame")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/detection.json"))
    args = parser.parse_args()
    names = args.detectors.split(",")
    seed = SEEDS[args.split] if args.seed is None else args.seed
    rng = np.random.default_rng(seed)
    crops = data.face_crops(args.fer, args.rafdb, split=args.split, n=args.faces, seed=seed,
                            ferplus_dir=args.ferplus)
    scenes = data.photo_scenes()
    backgrounds = scenes + [data.clutter(rng) for _ in scenes]
    patches = data.lfw_non_faces()
    heads = data.head_portraits()

    def non_faces():
        return data.non_face_images(scenes, patches, n=args.non_faces, seed=seed)

    def pan():
        return data.pan_clip_frames(backgrounds, frames_per_scene=args.pan_frames, seed=seed)

    results: dict[str, Any] = {
        "machine": machine_info(),
        "split": args.split,
        "seed": seed,
        "data": {"fer2013": str(args.fer), "rafdb": str(args.rafdb), "ferplus": str(args.ferplus),
                 "crops": dict(Counter(source for source, _ in crops)), "non-face images": args.non_faces,
                 "pan frames": args.pan_frames * len(backgrounds), "scenes": len(scenes),
                 "clutter backgrounds": len(backgrounds) - len(scenes)},
    }
    if args.sweep:
        results["sweep"] = sweep(
            [n for n in names if n != "haar"], settings.models_dir, lambda: data.tight_crops(crops),
            lambda: data.faces_in_scenes(heads, backgrounds, sizes=FACE_SIZES, repeats=args.repeats, seed=seed),
            non_faces, pan)
        save_results(results, args.out)
        return 0

    if args.judge_sweep:
        results["judge sweep"] = judge_sweep(load_detector(names[0], models_dir=settings.models_dir),
                                             data.tight_crops(crops), non_faces())
        save_results(results, args.out)
        return 0

    results["shipped"] = {"close-up score": CLOSE_UP_SCORE, "close-up candidates": CLOSE_UP_CANDIDATES,
                          "judged votes": JUDGED_VOTES,
                          "confirm hits": CONFIRM_HITS, "confirm score": CONFIRM_SCORE}
    empty_clip = data.encode_clip(pan())
    empty_frame = next(iter(pan()))
    face_clip = data.encode_clip(data.drifting_face_frames(heads[0], scenes[0], size=120, frames=150, seed=seed))
    baseline = baseline_detection(args.baseline) if args.baseline else None
    results["baseline"] = args.baseline
    results["detectors"] = {}
    for name in names:
        detector = load_detector(name, models_dir=settings.models_dir)
        per_frame = per_frame_costs(name, detector, settings.models_dir, baseline,
                                    args.timing_repeats // (10 if name == "haar" else 1), empty_frame)
        if args.timing_only:
            results["detectors"][name] = {"per frame": per_frame}
            save_results(results, args.out)
            continue
        faces = itertools.chain(
            data.tight_crops(crops),
            data.faces_in_scenes(data.crop_portraits(crops), backgrounds, sizes=FACE_SIZES, repeats=1, seed=seed),
            data.faces_in_scenes(heads, backgrounds, sizes=FACE_SIZES, repeats=args.repeats, seed=seed + 1))
        report = {"threshold": getattr(detector, "min_score", None),
                  "faces": faces_found(detector, faces),
                  "false faces": false_faces(detector, non_faces(), pan()),
                  "clips": clips(FacePredictor.from_dir(settings.models_dir, detector=detector), empty_clip,
                                 face_clip),
                  "per frame": per_frame}
        results["detectors"][name] = report
        print(name, {group: tally["found"] for group, tally in report["faces"].items() if "," not in group},
              "false faces per 1000 images:", report["false faces"]["images"]["all"]["per 1000"], flush=True)
        save_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
