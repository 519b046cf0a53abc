"""``train``, ``quantize`` and ``calibrate``: models made, turned int8 and calibrated, each measured into its card."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from emotion_core.cli.common import invocation, print_report, write_json
from emotion_core.cli.evaluate import print_recording_sizes, record_in_card
from emotion_core.config import Settings
from emotion_core.training.face.train import TRAINING_DETECTOR

if TYPE_CHECKING:
    from emotion_core.training.text.train import LstmConfig
    from emotion_core.training.text.transformer import TuneConfig


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this family's commands to the top-level sub-command parsers."""
    from emotion_core.training.face.train import ARCHITECTURES, FaceTrainingConfig
    from emotion_core.training.speech.cnn import SpeechCnnConfig
    from emotion_core.training.text.train import CORPORA_LSTM, LstmConfig

    train = sub.add_parser("train", help="train a model on a labelled data set")
    train_sub = train.add_subparsers(dest="modality", required=True)
    tr_face = train_sub.add_parser("face", help="FER-2013: Training_* to fit, PublicTest_* to select, "
                                                "PrivateTest_* to report")
    tr_face.add_argument("--data", type=Path, required=True, help="the fer2013 folder")
    tr_face.add_argument("--out", type=Path, default=Path("runs/face"),
                         help="run folder: checkpoints, the ONNX model and its card (default: runs/face)")
    tr_face.add_argument("--cache", type=Path, default=Path("runs/cache"), help="cache of prepared faces")
    defaults = FaceTrainingConfig()
    tr_face.add_argument("--epochs", type=int, default=defaults.epochs,
                         help=f"default {defaults.epochs}: about 3 hours on a 2-core CPU with bfloat16")
    tr_face.add_argument("--batch-size", type=int, default=defaults.batch_size)
    tr_face.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    tr_face.add_argument("--weight-decay", type=float, default=defaults.weight_decay, help="decoupled weight decay")
    tr_face.add_argument("--seed", type=int, default=defaults.seed)
    tr_face.add_argument("--max-minutes", type=float,
                         help="stop after the last epoch that fits in this many minutes (the best epoch is kept)")
    tr_face.add_argument("--init-weights", type=Path,
                         help="start from these weights (best.weights.h5 of an earlier run) with a new schedule")
    tr_face.add_argument("--warmup-epochs", type=int, default=defaults.warmup_epochs)
    tr_face.add_argument("--architecture", choices=ARCHITECTURES, default=defaults.architecture,
                         help="vgg: the 48 px CNN from scratch (default); mobilenet: ImageNet MobileNetV2 fine-tuned")
    tr_face.add_argument("--input-size", type=int, default=defaults.input_size,
                         help=f"side of the grey face the model takes (default {defaults.input_size}; e.g. 96 for "
                              "mobilenet)")
    tr_face.add_argument("--frozen-blocks", type=int, default=defaults.frozen_blocks,
                         help="mobilenet: the stem and this many of its 17 blocks keep their ImageNet weights "
                              f"(default {defaults.frozen_blocks}; 0 fine-tunes all but the stem)")
    tr_face.add_argument("--rafdb", type=Path,
                         help="RAF-DB's DATASET folder: its train joins training (a seeded 10%% joins selection), "
                              "its test is reported")
    tr_face.add_argument("--ferplus", type=Path,
                         help="FER+'s data folder: its crowd votes join FER-2013's training labels as soft targets "
                              "(selection and test keep FER-2013's labels)")
    tr_face.add_argument("--ferplus-weight", type=float, default=defaults.ferplus_weight,
                         help=f"with --ferplus: the votes' share of each target (default {defaults.ferplus_weight})")
    tr_face.add_argument("--precision", choices=("auto", "float32", "bfloat16"), default=defaults.precision,
                         help="bfloat16: mixed precision; auto (default): bfloat16 where the chip computes it "
                              "natively (CUDA, AVX512-BF16, AMX)")
    tr_face.add_argument("--limit", type=int, help="use only N images of each split (smoke test)")
    tr_face.add_argument("--no-evaluate", action="store_true",
                         help="skip the final PublicTest/PrivateTest evaluation (e.g. on a GPU box)")
    tr_face.set_defaults(handler=cmd_train_face)

    quantize = sub.add_parser("quantize", help="int8 version (7-bit weights) of a float32 run or an older int8 model")
    quantize_sub = quantize.add_subparsers(dest="modality", required=True)
    qu_face = quantize_sub.add_parser("face", help="calibrate on FER-2013 Training_*, then re-evaluate on "
                                                   "PublicTest_* and PrivateTest_* into the card")
    qu_face.add_argument("--model-dir", type=Path, required=True, help="run folder with face_expression.onnx")
    qu_face.add_argument("--data", type=Path, required=True, help="the fer2013 folder")
    qu_face.add_argument("--cache", type=Path, default=Path("runs/cache"), help="cache of prepared faces")
    qu_face.add_argument("--rafdb", type=Path, help="RAF-DB's DATASET folder: its test is evaluated too")
    qu_face.set_defaults(handler=cmd_quantize_face)

    calibrate = sub.add_parser("calibrate", help="calibrate a shipped model's decisions on validation data")
    calibrate_sub = calibrate.add_subparsers(dest="modality", required=True)
    ca_text = calibrate_sub.add_parser("text", help="temperature, class priors and uncertain threshold on every "
                                                    "corpus' val split, into the text model's card with every "
                                                    "test split's figures")
    ca_text.add_argument("--data", type=Path, nargs="+",
                         help="folders to look for the corpora in, in turn (default: $EMOTION_DATA_DIR/text)")
    ca_text.add_argument("--model-dir", type=Path, help="folder with the text model (default: models/)")
    ca_text.set_defaults(handler=cmd_calibrate_text)
    ca_face = calibrate_sub.add_parser("face", help="temperature on FER-2013 PublicTest_*, then the evaluation "
                                                    "(PublicTest, PrivateTest, RAF-DB test with --rafdb) into the "
                                                    "face model's card (what `train face` does unless "
                                                    "--no-evaluate)")
    ca_face.add_argument("--data", type=Path, required=True, help="the fer2013 folder")
    ca_face.add_argument("--rafdb", type=Path, help="RAF-DB's DATASET folder: its test is evaluated too")
    ca_face.add_argument("--model-dir", type=Path, required=True, help="run folder with face_expression.onnx")
    ca_face.set_defaults(handler=cmd_calibrate_face)

    tr_speech = train_sub.add_parser("speech", help="RAVDESS + EmoDB, speaker-independent: the seed's MFCC CNN "
                                                    "against ComParE functionals + logistic regression")
    tr_speech.add_argument("--data", type=Path, required=True, help="the speech data folder (../shared/data/speech)")
    tr_speech.add_argument("--out", type=Path, default=Path("runs/speech"))
    tr_speech.add_argument("--cache", type=Path, default=Path("runs/cache"), help="cache of extracted features")
    tr_speech.add_argument("--epochs", type=int, default=SpeechCnnConfig.epochs)
    tr_speech.add_argument("--seed", type=int, default=SpeechCnnConfig.seed)
    tr_speech.add_argument("--loco", action="store_true",
                           help="instead: compare the ComParE/eGeMAPS recipes under leave-one-corpus-out over every "
                                "corpus found (RAVDESS, EmoDB, EMOVO; TESS, TurEV-DB, EYASE when their "
                                "EMOTION_*_DIR is set), ship the best that keeps the in-corpus "
                                "figures, with its temperature and distance limit")
    tr_speech.add_argument("--emovo", type=Path, default=os.environ.get("EMOTION_EMOVO_DIR"),
                           help="the EMOVO folder with f1..m3/ (default: $EMOTION_EMOVO_DIR)")
    tr_speech.add_argument("--arms", default="all", help="with --loco: comma-separated arms, or 'all'")
    tr_speech.set_defaults(handler=cmd_train_speech)

    tr_seed = train_sub.add_parser("seed002", help="reproduce seed 002: MobileNetV2 + LBP + Random Forest against "
                                                   "a softmax head, on FER-2013")
    tr_seed.add_argument("--data", type=Path, required=True, help="the fer2013 folder")
    tr_seed.add_argument("--out", type=Path, default=Path("runs/seed002"))
    tr_seed.add_argument("--cache", type=Path, default=Path("runs/cache"), help="cache of prepared faces")
    tr_seed.add_argument("--finetune-epochs", type=int, default=4,
                         help="epochs of the fine-tuned MobileNetV2 arm (about 8 minutes each on 2 CPU cores)")
    tr_seed.set_defaults(handler=cmd_train_seed002)

    tr_judge = train_sub.add_parser("face-judge", help="the whole-image face judge that settles close-ups' doubtful "
                                                       "votes: face crops against photos without a person")
    tr_judge.add_argument("--fer", type=Path, help="the fer2013 folder (default: $EMOTION_DATA_DIR/faces/fer2013)")
    tr_judge.add_argument("--rafdb", type=Path, required=True, help="RAF-DB basic's DATASET folder")
    tr_judge.add_argument("--ferplus", type=Path, help="FER+'s data folder: FER-2013 pictures it does not count as a "
                                                       "face are left out")
    tr_judge.add_argument("--negatives", type=Path, nargs="+", required=True,
                          help="folders of photos and textures without a person, one pool each")
    tr_judge.add_argument("--leave-out", nargs="*", default=["person"],
                          help="sub-folders of --negatives to skip (default: person)")
    tr_judge.add_argument("--faces", type=int, default=12000, help="default 12000, as the shipped judge")
    tr_judge.add_argument("--non-faces", type=int, default=32000, help="default 32000, as the shipped judge "
                                                                       "(about 8 minutes on 2 CPU cores)")
    tr_judge.add_argument("--seed", type=int, default=42)
    tr_judge.add_argument("--out", type=Path, default=Path("runs/face_judge"),
                          help="folder for face_judge.onnx and its card (default: runs/face_judge)")
    tr_judge.set_defaults(handler=cmd_train_face_judge)

    tr_text = train_sub.add_parser("text", help="dair-ai emotion + GoEmotions: compare arms on the same splits, "
                                                "export the BiLSTM")
    tr_text.add_argument("--data", type=Path, nargs="+", required=True,
                         help="the text data folder (../shared/data/text); with --corpora, the folders to look "
                              "for the corpora in, in turn")
    tr_text.add_argument("--corpora", help="'all' or a comma-separated list of corpora: train one model (--model) on "
                                           "their train splits, calibrate and test on each (not shipped)")
    tr_text.add_argument("--model", choices=("bilstm", "bilstm_distilled", "minilm_distilled"), default="bilstm",
                         help="with --corpora: the BiLSTM; the BiLSTM taught by a fine-tuned 6-layer MiniLM as well "
                              "as by the labels (about an hour on 2 CPU cores); or a 3-layer MiniLM distilled "
                              "from that teacher (about 2 hours); a rerun in the same --out reuses the teacher")
    tr_text.add_argument("--teacher-epochs", type=int, default=2,
                         help="with --model bilstm_distilled: the MiniLM teacher's epochs (default 2, as the shipped "
                              "model's; about 23 minutes each on 2 CPU cores)")
    tr_text.add_argument("--pair-with-shipped", action="store_true",
                         help="with --corpora and the BiLSTM: train it on the shipped text model's vocabulary and "
                              "average the two in one model (the shipped one is read, not changed)")
    tr_text.add_argument("--out", type=Path, default=Path("runs/text"))
    tr_text.add_argument("--arms", default="tfidf,bilstm,minilm_frozen,minilm_finetuned",
                         help="comma-separated arms to train and compare (minilm_finetuned takes about an hour)")
    tr_text.add_argument("--epochs", type=int, help=f"BiLSTM epochs (default {LstmConfig.epochs}; with --corpora "
                                                    f"{CORPORA_LSTM.epochs})")
    tr_text.add_argument("--limit", type=int, help="use only N texts of each split (smoke test)")
    tr_text.set_defaults(handler=cmd_train_text)



def cmd_train_face(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.face.predictor import FACE_MODEL
    from emotion_core.modelcard import write_card
    from emotion_core.training.face.train import FaceTrainingConfig, train_face

    config = FaceTrainingConfig(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, limit=args.limit,
                                learning_rate=args.learning_rate, weight_decay=args.weight_decay,
                                max_minutes=args.max_minutes, warmup_epochs=args.warmup_epochs,
                                architecture=args.architecture, input_size=args.input_size,
                                frozen_blocks=args.frozen_blocks, ferplus_weight=args.ferplus_weight,
                                precision=args.precision,
                                init_weights=str(args.init_weights) if args.init_weights else None)
    command = invocation(args)
    card = train_face(args.data, out_dir=args.out, models_dir=settings.models_dir, config=config,
                      cache_dir=args.cache, rafdb_dir=args.rafdb, ferplus_dir=args.ferplus, command=command)
    write_card(args.out, FACE_MODEL, card)
    if args.no_evaluate:
        print(f"model and card written to {args.out}; calibrate and evaluate it with `calibrate face`")
        return 0
    _calibrate_face_into_card(args.data, args.out, settings)
    _evaluate_face_into_card(args.data, args.out, settings, rafdb=args.rafdb)
    print(f"model and card written to {args.out}")
    return 0


def cmd_train_face_judge(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import datetime, timezone

    from emotion_core.face.judge import JUDGE_MODEL, JUDGE_SIZE
    from emotion_core.face.search import JUDGED_VOTES
    from emotion_core.modelcard import write_card
    from emotion_core.timing import machine_info
    from emotion_core.training.face.judge import BENCHMARK_TRAIN_DRAW, NON_FACE_SOURCES, REGULARISATION, train_judge

    started = datetime.now(timezone.utc)
    fer = args.fer or settings.data_dir / "faces" / "fer2013"
    model, figures = train_judge(fer, args.rafdb, args.negatives, ferplus_dir=args.ferplus,
                                 backbone_path=settings.models_dir / "seed002_mobilenet.onnx",
                                 leave_out=args.leave_out, faces=args.faces, non_faces=args.non_faces,
                                 seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{JUDGE_MODEL}.onnx").write_bytes(model.SerializeToString())
    card = {
        "model_id": f"face-judge-mobilenetv2-map-logreg-{started:%Y%m%d}",
        "task": "face detection",
        "role": "is the whole image one face? A second judge for the photo search's close-ups",
        "modality": "face",
        "file": f"{JUDGE_MODEL}.onnx",
        "source": "trained here on face crops against photos without a person (python -m emotion_core train "
                  "face-judge)",
        "licence": "the training data's terms: research use (see dataset); the network's ImageNet weights come "
                   "from the file seed 002 ships (see seed002_hybrid.card.json)",
        "architecture": f"ImageNet MobileNetV2 (frozen, the network of seed002_mobilenet.onnx) on the image's "
                        f"central square, grey, {JUDGE_SIZE} px -> its last feature map (3x3x1280), flattened -> "
                        f"logistic regression (C {REGULARISATION}, the standardisation folded into it)",
        "inference": {"kind": "face judge", "runtime": "onnxruntime",
                      "used": "the mean of the image as it is and mirrored settles a close-up: from each "
                              "probability, the looks' vote that suffices ("
                              + ", ".join(f"{sure}: {needed}" for sure, needed in JUDGED_VOTES)
                              + "); below the last, no vote does (emotion_core/face/search.py)"},
        "dataset": {
            "faces": {"FER-2013": "Training_* (research use only), less FER+'s non-faces (FER+: MIT)",
                      "RAF-DB basic": "train (research use only; fetched from "
                                      "koorosh-moaveninejad/Facial-Expression-Recognition)",
                      "left out": f"the detection benchmark's training draw ({BENCHMARK_TRAIN_DRAW}), on which "
                                  "the thresholds were chosen"},
            "non-faces": {"folders": [str(folder) for folder in args.negatives], "sources": NON_FACE_SOURCES},
        },
        "training": {"command": invocation(args), "date": started.isoformat(timespec="seconds"),
                     "machine": machine_info()},
        "metrics": figures,
    }
    write_card(args.out, JUDGE_MODEL, card)
    print(json.dumps(figures, indent=1))
    print(f"model and card written to {args.out}")
    return 0


def cmd_train_speech(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.modelcard import load_card
    from emotion_core.speech.predictor import CALIBRATED_SPEECH_MODEL
    from emotion_core.training.speech.cnn import SpeechCnnConfig
    from emotion_core.training.speech.train import train_speech

    command = invocation(args)
    if args.loco:
        return _train_speech_loco(args, settings, command)
    card = train_speech(args.data, out_dir=args.out, config=SpeechCnnConfig(epochs=args.epochs, seed=args.seed),
                        command=command, cache_dir=args.cache)
    calibrated = load_card(args.out, CALIBRATED_SPEECH_MODEL)
    print(f"shipped arm: {card['training']['shipped_arm']}")
    for title, figures in (("", card["metrics"]), ("calibrated model, ", calibrated["metrics"])):
        for name in ("ravdess_test", "emodb_test"):
            print(f"{title}{name}: UAR {figures[name]['uar']:.4f}, accuracy {figures[name]['accuracy']:.4f}")
    print(f"models and cards written to {args.out}")
    return 0


def _train_speech_loco(args: argparse.Namespace, settings: Settings, command: str) -> int:
    from emotion_core.speech.predictor import SELF_CALIBRATED_SPEECH_MODEL, SPEECH_MODEL
    from emotion_core.training.speech.loco import arms_by_name, loco_table
    from emotion_core.training.speech.ship import ship_loco

    cards = ship_loco(args.data, emovo_dir=args.emovo, out_dir=args.out, cache_dir=args.cache / "speech_features",
                      arms=arms_by_name(args.arms), models_dir=settings.models_dir, command=command)
    card = cards[SPEECH_MODEL]
    print(loco_table(card["loco"]["arms"]))
    print(f"winning arm: {card['loco']['winner'] or 'none (the shipped model stays)'}; LOCO mean UAR of the shipped "
          f"recipe {card['loco']['mean_uar']:.4f}")
    calibration = card["confidence"]["calibration"]
    print(f"temperature {calibration['temperature']:.3f}: ECE {calibration['ece_before']:.4f} -> "
          f"{calibration['ece_after']:.4f} (temperature from the other corpora: "
          f"{calibration['ece_after_leave_one_corpus_out']:.4f})")
    print(f"distance limit {card['confidence']['distance']['limit']}")
    if unheard := calibration.get("shipped_model_on_unheard_corpora"):
        print(f"shipped model on {', '.join(unheard['corpora'])} (never trained on): UAR {unheard['uar']:.4f}, "
              f"ECE {unheard['ece_before']:.4f} -> {unheard['ece_after_temperature_without_them']:.4f} with the "
              f"temperature fitted without them; {unheard['uncertain_share']:.0%} marked uncertain")
    for name, report in card["metrics"].items():
        if isinstance(report, dict):
            print(f"{name}: UAR {report['uar']:.4f}, accuracy {report['accuracy']:.4f}, n {report['n']}")
    if own := cards.get(SELF_CALIBRATED_SPEECH_MODEL):
        print_recording_sizes(own["recording_sizes"])
        calibration = own["confidence"]["calibration"]
        print(f"self-calibrated model ({own['model_id']}): from {own['input']['min_segments']} voiced segments; "
              f"LOCO mean UAR there {own['loco']['mean_uar_at_min_segments']:.4f}; temperature "
              f"{calibration['temperature']:.3f}, ECE {calibration['ece_before']:.4f} -> "
              f"{calibration['ece_after']:.4f}")
    print(f"models, distance models and cards written to {args.out}")
    return 0


def cmd_train_seed002(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import datetime, timezone

    from emotion_core.evaluation import evaluate_face
    from emotion_core.face.detection import load_detector
    from emotion_core.face.hybrid import HYBRID_MODEL, HybridFacePredictor
    from emotion_core.labels import EMOTIONS
    from emotion_core.modelcard import write_card
    from emotion_core.timing import sample_frame
    from emotion_core.training.face.seed002 import LBP_GRID, MOBILENET_SIZE, run_seed002

    command = invocation(args)
    started = datetime.now(timezone.utc)
    results = run_seed002(args.data, out_dir=args.out, models_dir=settings.models_dir, cache_dir=args.cache,
                          frame=sample_frame(), finetune_epochs=args.finetune_epochs)
    seven = results["class_sets"]["seven"]["arms"]["mobilenet_lbp_rf_shipped"]
    card = {
        "model_id": f"seed002-mobilenetv2-lbp-rf-fer2013-{started:%Y%m%d}",
        "task": "facial expression recognition", "modality": "face", "labels": list(EMOTIONS),
        "architecture": f"ImageNet MobileNetV2 features (1280, frozen) + uniform LBP histograms (P=8, R=1, "
                        f"{LBP_GRID}x{LBP_GRID} grid, 360) -> Random Forest ({seven['trees']} trees, depth "
                        f"{seven['max_depth']}, bounded for size; the comparison's unbounded forest is in "
                        "benchmarks/results/seed002.json)",
        "input": {"shape": [48, 48], "preprocessing": "the same face pipeline as face_expression; MobileNetV2 sees "
                                                      f"{MOBILENET_SIZE}x{MOBILENET_SIZE} grey as RGB"},
        "inference": {"kind": "hybrid", "runtime": "onnxruntime", "lbp_grid": LBP_GRID, "input_size": MOBILENET_SIZE,
                      "forest_classes": seven["forest_classes"],
                      "files": {"backbone": "seed002_mobilenet.onnx", "forest": "seed002_forest.onnx"}},
        "dataset": {"name": "FER-2013", "terms": "research use only",
                    "split": {"train": "Training_*", "selection": "PublicTest_*", "test": "PrivateTest_*"}},
        "training": {"command": command, "date": started.isoformat(timespec="seconds"),
                     "reproduces": "seed 002 (MobileNetV2 + LBP + Random Forest)"},
        "metrics": {},
    }
    write_card(args.out, HYBRID_MODEL, card)
    detector = load_detector(TRAINING_DETECTOR, models_dir=settings.models_dir)
    hybrid = HybridFacePredictor.from_dir(args.out, detector=detector)
    report = evaluate_face(args.data, hybrid, prefix="PrivateTest", detect="never", progress=True)
    report.pop("data")
    record_in_card(args.out, "PrivateTest", report, "python -m emotion_core evaluate face --data "
                    f"{args.data} --prefix PrivateTest --detect never --detector {TRAINING_DETECTOR} "
                    f"--face-model {HYBRID_MODEL} --model-dir "
                    f"{args.out} --write-card", HYBRID_MODEL)
    results["shipped_hybrid_privatetest"] = {k: report[k] for k in ("n", "accuracy", "macro_f1", "uar",
                                                                    "ms_per_item")}
    write_json(results, str(args.out / "seed002.json"))
    print(f"comparison, hybrid model and card written to {args.out}")
    return 0


def text_teacher(args: argparse.Namespace, lstm: LstmConfig) -> TuneConfig | None:
    """The MiniLM teacher that ``train text --corpora --model bilstm_distilled`` fine-tunes (``None`` for the other
    models), for ``--teacher-epochs``."""
    from emotion_core.training.text.train import minilm_teacher

    return minilm_teacher(lstm, args.teacher_epochs) if args.model == "bilstm_distilled" else None


def cmd_train_text(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from emotion_core.training.text.train import (
        CORPORA_LSTM,
        LstmConfig,
        ship_text_model,
        train_on_corpora,
        train_pair_on_corpora,
        train_text,
    )

    command = invocation(args)
    if args.corpora:
        from emotion_core.text.corpora import CORPORA

        names = list(CORPORA) if args.corpora == "all" else args.corpora.split(",")
        if args.model == "minilm_distilled":
            from emotion_core.training.text.transformer import distil_on_corpora

            card = distil_on_corpora(args.data, out_dir=args.out, command=command, names=names,
                                     compare_with=_shipped_text_figures(settings))
        else:
            lstm = replace(CORPORA_LSTM, epochs=args.epochs or CORPORA_LSTM.epochs)
            teacher = text_teacher(args, lstm)
            card = (train_pair_on_corpora(args.data, shipped_dir=settings.models_dir, out_dir=args.out,
                                          command=command, names=names, lstm=lstm, teacher=teacher)
                    if args.pair_with_shipped else
                    train_on_corpora(args.data, out_dir=args.out, command=command, names=names, lstm=lstm,
                                     teacher=teacher))
        for name, row in card["calibration"]["test"].items():
            after = row["after"]
            print(f"{name:<12} accuracy {after['accuracy']:.4f}  macro-F1 {after['macro_f1']:.4f}  weighted-F1 "
                  f"{after['weighted_f1']:.4f}  neutral {after['neutral_share']['predicted']:.1%} (true "
                  f"{after['neutral_share']['true']:.1%})")
        print(f"model and card written to {args.out} ({card['model_id']}); not shipped")
        return 0
    if len(args.data) != 1:
        from emotion_core.errors import InvalidInputError

        raise InvalidInputError("--data: one folder (with dair_emotion/ and goemotions/), or use --corpora.")
    args.data = args.data[0]
    arms = args.arms.split(",")
    if "bilstm" not in arms:  # compare other arms only: nothing to ship
        comparison = train_text(args.data, out_dir=args.out, arms=arms, limit=args.limit)
        write_json(comparison, str(args.out / "comparison.json"))
        print("no model written: the shipped text model is the BiLSTM (include bilstm in --arms)")
        return 0
    card = ship_text_model(args.data, out_dir=args.out, arms=arms, command=command,
                           lstm=LstmConfig(epochs=args.epochs or LstmConfig.epochs), limit=args.limit)
    print(f"model, card and comparison written to {args.out} ({card['model_id']})")
    return 0


def _shipped_text_figures(settings: Settings) -> dict:
    """The shipped text model's calibrated figures per test split, from its card, to compare a new model with."""
    from emotion_core.modelcard import load_card
    from emotion_core.text.predictor import TEXT_MODEL

    card = load_card(settings.models_dir, TEXT_MODEL)
    tests = card.get("calibration", {}).get("test", {})
    return {f"{card['model_id']} (shipped before)": {f"{name}_test": row["after"] for name, row in tests.items()}}


def cmd_quantize_face(args: argparse.Namespace, settings: Settings) -> int:
    """Turn a face model into the int8 one `train face` now ships (7-bit weights), and re-measure it.

    A float32 run is quantised as it is. An int8 model whose float32 file was not kept (the shipped one) is
    turned back into its float network first (:func:`~emotion_core.training.export.float_reference`), which is
    measured, then quantised again.
    """
    import onnx

    from emotion_core.face.detection import load_detector
    from emotion_core.face.predictor import FACE_MODEL
    from emotion_core.modelcard import load_card, write_card
    from emotion_core.training.export import WEIGHT_BITS, float_reference
    from emotion_core.training.face.train import preprocess_split, quantize_classifier

    model_path = args.model_dir / f"{FACE_MODEL}.onnx"
    card = load_card(args.model_dir, FACE_MODEL)
    if card["inference"].get("precision") == "int8":
        onnx.save(float_reference(model_path), str(model_path))
        card["model_id"] = card["model_id"].removesuffix("-int8") + "-float-reference"
        card["inference"]["precision"] = "float32"
        card["float_source"] = {"rebuilt_from": card["model_id"].removesuffix("-float-reference") + "-int8",
                                "how": "emotion_core.training.export.float_reference: weights as that model "
                                       "quantised them, activations in float",
                                "previous_quantization": card.pop("quantization", {})}
        card["metrics"] = {}
        write_card(args.model_dir, FACE_MODEL, card)
        _evaluate_face_into_card(args.data, args.model_dir, settings, rafdb=args.rafdb)
        card = load_card(args.model_dir, FACE_MODEL)
    detector = load_detector(TRAINING_DETECTOR, models_dir=settings.models_dir)
    train_faces, _ = preprocess_split(args.data, "Training", detector=detector, cache_dir=args.cache,
                                      size=card["input"]["shape"][0])
    seed = card["training"]["config"]["seed"]
    quantization = quantize_classifier(model_path, train_faces, seed=seed)
    command = invocation(args)
    card["model_id"] = card["model_id"].removesuffix("-float-reference") + f"-int8w{WEIGHT_BITS}"
    card["inference"]["precision"] = "int8"
    card["quantization"] = {**quantization, "command": command, "float32_metrics": card.pop("metrics", {})}
    card["metrics"] = {}
    write_card(args.model_dir, FACE_MODEL, card)
    _calibrate_face_into_card(args.data, args.model_dir, settings)
    _evaluate_face_into_card(args.data, args.model_dir, settings, rafdb=args.rafdb)
    print(f"int8 model and card written to {args.model_dir}")
    return 0


def cmd_calibrate_face(args: argparse.Namespace, settings: Settings) -> int:
    _calibrate_face_into_card(args.data, args.model_dir, settings)
    _evaluate_face_into_card(args.data, args.model_dir, settings, rafdb=args.rafdb)
    print(f"card in {args.model_dir} calibrated and evaluated")
    return 0


def cmd_calibrate_text(args: argparse.Namespace, settings: Settings) -> int:
    """Choose the text model's calibration on every corpus' val split; write it, and every test split's figures
    as the app will run the model, into the card."""
    from datetime import datetime, timezone

    from emotion_core.modelcard import load_card, write_card
    from emotion_core.text.corpora import CORPORA
    from emotion_core.text.predictor import TEXT_MODEL
    from emotion_core.training.text.train import calibrate_and_test, describe_corpora

    models_dir = args.model_dir or settings.models_dir
    card = calibrate_and_test(load_card(models_dir, TEXT_MODEL), models_dir,
                              args.data or [settings.data_dir / "text"], CORPORA)
    found = card["calibration"]
    found.update(command=invocation(args), date=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    card.setdefault("dataset", {})["evaluation_corpora"] = describe_corpora()
    write_card(models_dir, TEXT_MODEL, card)
    print("calibration: " + json.dumps({k: v for k, v in found.items() if k not in ("validation", "test")}))
    print(f"{'test split':<12}{'macro-F1':>18}{'weighted-F1':>18}{'neutral predicted':>22}{'true':>7}"
          f"{'low confidence':>16}")
    for name, row in found["test"].items():
        before, after = row["before"], row["after"]
        print(f"{name:<12}{before['macro_f1']:>9.4f} → {after['macro_f1']:.4f}{before['weighted_f1']:>9.4f} → "
              f"{after['weighted_f1']:.4f}{before['neutral_share']['predicted']:>12.1%} → "
              f"{after['neutral_share']['predicted']:.1%}{after['neutral_share']['true']:>7.1%}"
              f"{after['low_confidence_share']:>16.1%}")
    print(f"written to the card in {models_dir}")
    return 0


def _evaluate_face_into_card(data: Path, model_dir: Path, settings: Settings, *, rafdb: Path | None = None) -> None:
    """Measure the face model in ``model_dir`` with the same code as `evaluate face`: selection split, then the
    test split (and RAF-DB test, when given), each recorded in its card."""
    from emotion_core.evaluation import evaluate_face
    from emotion_core.face.detection import load_detector
    from emotion_core.face.predictor import FacePredictor

    detector = load_detector(TRAINING_DETECTOR, models_dir=settings.models_dir)
    predictor = FacePredictor.from_dir(model_dir, detector=detector)
    for split in ("PublicTest", "PrivateTest"):
        report = evaluate_face(data, predictor, prefix=split, detect="never", progress=True)
        print(f"{split}:")
        print_report(report)
        record_in_card(model_dir, split, report, f"python -m emotion_core evaluate face --data {data} "
                        f"--prefix {split} --detect never --detector {TRAINING_DETECTOR} --model-dir {model_dir} "
                        "--write-card")
    if rafdb is not None:
        report = evaluate_face(rafdb, predictor, prefix="test", corpus="rafdb", detect="never", progress=True)
        print("RAF-DB test:")
        print_report(report)
        record_in_card(model_dir, "rafdb-test", report, f"python -m emotion_core evaluate face --data {rafdb} "
                        f"--corpus rafdb --prefix test --detect never --detector {TRAINING_DETECTOR} --model-dir "
                        f"{model_dir} --write-card")


def _calibrate_face_into_card(data: Path, model_dir: Path, settings: Settings) -> None:
    """Fit the face model's temperature on PublicTest_* (validation), measure the ECE before and after on both
    test splits, and store both in its card (``inference.temperature``, ``calibration``)."""
    from emotion_core.confidence import ECE_BINS, apply_temperature, expected_calibration_error, fit_temperature
    from emotion_core.evaluation import face_probabilities
    from emotion_core.face.detection import load_detector
    from emotion_core.face.predictor import FACE_MODEL, FacePredictor
    from emotion_core.modelcard import load_card, write_card

    detector = load_detector(TRAINING_DETECTOR, models_dir=settings.models_dir)
    predictor = FacePredictor.from_dir(model_dir, detector=detector)
    predictor.temperature = 1.0
    scored = {split: face_probabilities(data, predictor, prefix=split, progress=True)
              for split in ("PublicTest", "PrivateTest")}
    temperature = round(fit_temperature(*scored["PublicTest"]), 4)
    ece = {split: {"before": round(expected_calibration_error(probs, targets), 4),
                   "after": round(expected_calibration_error(apply_temperature(probs, temperature), targets), 4)}
           for split, (probs, targets) in scored.items()}
    card = load_card(model_dir, FACE_MODEL)
    card["inference"]["temperature"] = temperature
    card["calibration"] = {
        "method": "temperature scaling (Guo et al., ICML 2017) of the mirror-averaged probabilities, fitted by "
                  "negative log-likelihood on PublicTest_* (detect never); labels do not change",
        "temperature": temperature, "ece_bins": ECE_BINS, "ece": ece,
        "data": str(data), "command": "part of `train face`, `quantize face` and `calibrate face` (emotion_core.cli)",
    }
    write_card(model_dir, FACE_MODEL, card)
    print(f"temperature {temperature}: ECE {ece}")

