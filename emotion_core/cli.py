"""Command line: ``python -m emotion_core analyze|evaluate|train ...``.

Every command loads its models once, prints a short human summary, and writes JSON where asked. Errors that
the user can fix (bad file, missing folder) end with a one-line message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emotion_core.config import Settings
from emotion_core.errors import EmotionLensError


def _write_json(data: Any, target: str | None) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if target in (None, "-"):
        print(text)
    else:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)


def _print_report(report: dict[str, Any]) -> None:
    print(f"n={report['n']}  accuracy={report['accuracy']:.4f}  macro_f1={report['macro_f1']:.4f}  "
          f"uar={report['uar']:.4f}  ms_per_item={report['ms_per_item']:.2f}  skipped={len(report['skipped'])}")
    print(f"{'label':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for label, row in report["per_class"].items():
        print(f"{label:<10}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}{row['support']:>10}")
    if doubtful := report.get("uncertain"):
        print(f"uncertain: {doubtful['share']:.1%} of the results (accuracy {doubtful['accuracy_uncertain']}); "
              f"the others' accuracy {doubtful['accuracy_trusted']}")


def _face_predictor(args: argparse.Namespace, settings: Settings, *, photos: bool):
    """The face model and detector of the command's options; the default detector is the photos' or the video's."""
    from emotion_core.predictors import load_face_predictor, load_predictors

    detector = args.detector or (settings.photo_detector if photos else settings.face_detector)
    if args.model_dir:  # a model of one's own (a training run's folder), with a shipped detector
        from emotion_core.detection import load_detector

        return load_face_predictor(args.model_dir, model=args.face_model,
                                   detector=load_detector(detector, models_dir=settings.models_dir))
    return load_predictors(settings).face(args.face_model, detector=detector)


def cmd_analyze(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.audio import AUDIO_TYPES
    from emotion_core.errors import InvalidInputError
    from emotion_core.media import IMAGE_TYPES
    from emotion_core.video import VIDEO_TYPES

    if (args.text is None) == (args.path is None):
        raise InvalidInputError("give either a file or --text \"...\".")
    if args.text is not None:
        return _analyze_text(args, settings, args.text, "text")
    kind = args.path.suffix.lower().lstrip(".")
    if kind in AUDIO_TYPES or (kind in VIDEO_TYPES and args.audio):
        return _analyze_audio(args, settings)
    if args.calibrate:
        raise InvalidInputError("--calibrate applies to speech: an audio file, or a video with --audio.")
    if kind == "txt":
        from emotion_core.media import read_file

        return _analyze_text(args, settings, read_file(args.path), str(args.path))
    if kind in ("csv", "tsv"):
        return _analyze_text_table(args, settings)
    if kind in IMAGE_TYPES:
        return _analyze_image(args, settings)
    if kind in VIDEO_TYPES:
        return _analyze_video(args, settings)
    raise InvalidInputError(f"{args.path}: expected an image ({', '.join(IMAGE_TYPES)}), a video "
                            f"({', '.join(VIDEO_TYPES)}), audio ({', '.join(AUDIO_TYPES)}) or text (txt, csv, tsv), "
                            f"got a .{kind or '(no extension)'} file.")


def _analyze_audio(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.audio_analysis import analyze_audio
    from emotion_core.predictors import load_predictors
    from emotion_core.speech import profile_from_recordings

    predictors = load_predictors(settings)
    if args.calibrate:
        profile = profile_from_recordings([(path, str(path)) for path in args.calibrate],
                                          max_seconds=settings.max_calibration_seconds)
        predictor = predictors.calibrated_speech().for_speaker(profile)
    else:
        predictor = predictors.speech()
    analysis = analyze_audio(args.path, predictor, name=str(args.path), max_seconds=settings.max_audio_seconds)
    if args.json:
        _write_json(analysis.to_dict(), "-")
    elif args.csv:
        analysis.segment_table().to_csv(sys.stdout, index=False)
    elif analysis.overall is None:
        print(f"{args.path}: {analysis.audio.seconds:.1f} s, no emotion given ({analysis.reason})")
    else:
        calibrated = f", calibrated on {predictor.profile.segments} segments" if predictor.profile else ""
        print(f"{args.path}: {analysis.audio.seconds:.1f} s, {analysis.overall.label} "
              f"({analysis.overall.confidence:.0%}) over {len(analysis.segments)} voiced segment(s){calibrated}")
        for segment in analysis.segments:
            print(f"  {segment.span[0]:6.2f}-{segment.span[1]:6.2f} s  {segment.label} ({segment.confidence:.0%})")
    return 0


def _analyze_text(args: argparse.Namespace, settings: Settings, text: str | bytes, source: str) -> int:
    from emotion_core.predictors import load_predictors
    from emotion_core.text_analysis import analyze_text

    analysis = analyze_text(text, load_predictors(settings).text(), source=source)
    if args.json:
        _write_json(analysis.to_dict(), "-")
    elif args.csv:
        analysis.sentence_table().to_csv(sys.stdout, index=False)
    else:
        if analysis.warning:
            print(f"warning: {analysis.warning}", file=sys.stderr)
        doubt = f"; uncertain: {analysis.overall.uncertain}" if analysis.overall.uncertain else ""
        print(f"{source}: {analysis.overall.label} ({analysis.overall.confidence:.0%}); sentiment "
              f"{analysis.sentiment['polarity']} ({analysis.sentiment['compound']:+.2f}){doubt}")
        for sentence, result, _ in analysis.sentences:
            print(f"  {result.label:>8} {result.confidence:4.0%}{' ?' if result.uncertain else '  '} "
                  f"{sentence.text[:90]}")
    return 0


def _analyze_text_table(args: argparse.Namespace, settings: Settings) -> int:
    """Every row of a CSV/TSV column; prints the rows with the results appended, as CSV."""
    from emotion_core.media import read_table
    from emotion_core.predictors import load_predictors
    from emotion_core.text_analysis import analyze_text_column

    combined = analyze_text_column(read_table(args.path), args.column, load_predictors(settings).text(),
                                   source=str(args.path))
    if args.json:
        _write_json(json.loads(combined.to_json(orient="records")), "-")
    else:
        combined.to_csv(sys.stdout, index=False)
    return 0


def _analyze_image(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.analysis import analyze_image
    from emotion_core.media import read_file

    analysis = analyze_image(read_file(args.path), _face_predictor(args, settings, photos=True),
                             source=str(args.path), max_pixels=settings.max_image_pixels)
    if args.json:
        _write_json(analysis.to_dict(), "-")
    elif args.csv:
        analysis.face_table().to_csv(sys.stdout, index=False)
    else:
        print(f"{args.path}: {len(analysis.faces)} face(s)")
        for i, face in enumerate(analysis.faces, 1):
            doubt = f", uncertain: {face.uncertain}" if face.uncertain else ""
            print(f"  face {i} at {face.box}: {face.label} ({face.confidence:.0%}{doubt})")
    return 0


def _analyze_video(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.video import analyze_video

    analysis = analyze_video(args.path, _face_predictor(args, settings, photos=False), name=str(args.path),
                             stride=args.stride, detect_every=args.detect_every, smoothing=args.smoothing,
                             annotate=args.annotated is not None, max_bytes=settings.max_upload_bytes)
    if args.annotated is not None and analysis.annotated_mp4:
        args.annotated.write_bytes(analysis.annotated_mp4)
        print(f"wrote {args.annotated}", file=sys.stderr)
    for warning in analysis.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        _write_json(analysis.to_dict(), "-")
    elif args.csv:
        _write_csv(analysis.rows)
    else:
        print(f"{args.path}: {analysis.frames_analysed} of {analysis.frames_read} frames analysed at "
              f"{analysis.fps:.1f} frames/s")
        for track in analysis.track_summary().to_dict(orient="records"):
            print(f"  face track {track['track_id']}: {track['first_s']:.1f}-{track['last_s']:.1f} s, "
                  f"mostly {track['dominant']}")
    return 0


def _write_csv(rows: list[dict[str, Any]]) -> None:
    from emotion_core.stream import rows_table

    rows_table(rows).to_csv(sys.stdout, index=False)


def cmd_evaluate_face(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.evaluation import evaluate_face

    predictor = _face_predictor(args, settings, photos=True)
    report = evaluate_face(args.data, predictor, prefix=args.prefix, detect=args.detect,
                           max_pixels=settings.max_image_pixels, progress=True, corpus=args.corpus)
    _print_report(report)
    if args.json:
        _write_json(report, args.json)
    if args.write_card:
        split = args.prefix or Path(args.data).name
        split = f"{args.corpus}-{split}" if args.corpus else split
        _record_in_card(args.model_dir or settings.models_dir, split, report,
                        _invocation(args), args.face_model)
    return 0


def cmd_train_text(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.training.text import LstmConfig, ship_text_model, train_on_corpora, train_text

    command = _invocation(args)
    if args.corpora:
        from emotion_core.text_corpora import CORPORA

        names = list(CORPORA) if args.corpora == "all" else args.corpora.split(",")
        card = train_on_corpora(args.data, out_dir=args.out, command=command, names=names,
                                lstm=LstmConfig(epochs=args.epochs))
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
        _write_json(comparison, str(args.out / "comparison.json"))
        print("no model written: the shipped text model is the BiLSTM (include bilstm in --arms)")
        return 0
    card = ship_text_model(args.data, out_dir=args.out, arms=arms, command=command,
                           lstm=LstmConfig(epochs=args.epochs), limit=args.limit)
    print(f"model, card and comparison written to {args.out} ({card['model_id']})")
    return 0


def cmd_train_speech(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.modelcard import load_card
    from emotion_core.speech import CALIBRATED_SPEECH_MODEL
    from emotion_core.training.speech import SpeechCnnConfig, train_speech

    command = _invocation(args)
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
    from emotion_core.speech import SELF_CALIBRATED_SPEECH_MODEL, SPEECH_MODEL
    from emotion_core.training.speech_loco import arms_by_name, loco_table, ship_loco

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
        _print_recording_sizes(own["recording_sizes"])
        calibration = own["confidence"]["calibration"]
        print(f"self-calibrated model ({own['model_id']}): from {own['input']['min_segments']} voiced segments; "
              f"LOCO mean UAR there {own['loco']['mean_uar_at_min_segments']:.4f}; temperature "
              f"{calibration['temperature']:.3f}, ECE {calibration['ece_before']:.4f} -> "
              f"{calibration['ece_after']:.4f}")
    print(f"models, distance models and cards written to {args.out}")
    return 0


def _print_recording_sizes(table: dict[str, Any]) -> None:
    print(f"arm {table['arm']}, a recording normalised on itself: UAR by its number of segments "
          "(LOCO mean; LOCO per corpus | in-corpus per corpus)")
    for size, row in table["sizes"].items():
        print(f"  {size:>4}: {row['loco_mean_uar']:.4f}  "
              + "  ".join(f"{c} {r['uar']:.4f}" for c, r in row["loco"].items()) + "  |  "
              + "  ".join(f"{c} {r['uar']:.4f}" for c, r in row["in_corpus"].items()))


def _invocation(args: argparse.Namespace) -> str:
    """The command line that ran, as cards and figures record it."""
    return "python -m emotion_core " + " ".join(shlex.quote(a) for a in args.argv)


def _positive_ints(value: str) -> list[int]:
    try:
        numbers = [int(x) for x in value.split(",") if x.strip()]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers of 1 or more, got {value!r}")
    return numbers


def _calibration_recordings(value: str) -> str:
    if value == "all" or (value.isdigit() and int(value) >= 1):
        return value
    raise argparse.ArgumentTypeError(f"expected 'all' or a number of recordings (1 or more), got {value!r}")


def cmd_evaluate_speech(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.audio import AUDIO_TYPES
    from emotion_core.datasets import find_labelled_files
    from emotion_core.errors import InvalidInputError
    from emotion_core.evaluation import evaluate_speech
    from emotion_core.speech import CALIBRATED_SPEECH_MODEL, SPEECH_MODEL, SpeechPredictor

    if args.loco:
        return _evaluate_speech_loco(args, settings)
    if args.calibrate and not args.corpus:
        raise InvalidInputError("--calibrate needs --corpus: the speakers are read from the corpus' file names.")
    model = CALIBRATED_SPEECH_MODEL if args.calibrate else SPEECH_MODEL
    predictor = SpeechPredictor.from_dir(args.model_dir or settings.models_dir, model=model)
    speakers = None
    if args.corpus:
        from emotion_core.speech_corpora import speech_corpus_clips

        clips = [c for c in speech_corpus_clips(args.data, emovo_dir=args.emovo, corpora=(args.corpus,))
                 if args.speakers == "all" or c.split == "test"]
        paths, labels = [c.path for c in clips if c.label], [c.label for c in clips if c.label]
        skipped = [{"path": str(c.path), "reason": f"label {c.raw_label!r} has no canonical counterpart"}
                   for c in clips if c.label is None]
        speakers = [c.speaker for c in clips if c.label] if args.calibrate else None
    else:
        found = find_labelled_files(args.data, suffixes=[f".{t}" for t in AUDIO_TYPES])
        paths, labels, skipped = found.paths, found.labels, found.skipped
    report = evaluate_speech(paths, labels, predictor, skipped=skipped, progress=True, speakers=speakers,
                             calibration_recordings=None if args.calibrate in (None, "all") else int(args.calibrate))
    _print_report(report)
    if args.json:
        _write_json(report, args.json)
    return 0


def _evaluate_speech_loco(args: argparse.Namespace, settings: Settings) -> int:
    """``evaluate speech --loco``: each arm trained on all corpora but one and tested on that one, beside its
    in-corpus test figures (features cached in ``--cache``)."""
    from emotion_core.modelcard import load_card
    from emotion_core.speech import SPEECH_MODEL
    from emotion_core.speech_corpora import speech_corpus_clips
    from emotion_core.timing import machine_info
    from emotion_core.training.speech_loco import (
        CorpusFeatures,
        arms_by_name,
        compare_arms,
        loco_table,
        recording_size_table,
    )

    card = load_card(args.model_dir or settings.models_dir, SPEECH_MODEL)
    clips = speech_corpus_clips(args.data, emovo_dir=args.emovo)
    arms = arms_by_name(args.arms, shipped=card.get("loco", {}).get("shipped_arm", "compare"))
    results = compare_arms(clips, arms, cache_dir=args.cache / "speech_features")
    print(loco_table(results))
    figures = {name: {k: v for k, v in r.items() if k not in ("oof", "arm")} for name, r in results.items()}
    for arm in arms if args.recording_sizes else ():
        if arm.normalisation == "none":
            continue
        data = CorpusFeatures.load(clips, arm.feature_set, args.cache / "speech_features")
        sizes = recording_size_table(data, arm, [*args.recording_sizes, 0])
        figures[arm.name]["recording_sizes"] = {**sizes, "command": _invocation(args), "machine": machine_info()}
        _print_recording_sizes(sizes)
    if args.json:
        _write_json(figures, args.json)
    return 0


def cmd_train_seed002(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import datetime, timezone

    from emotion_core.detection import load_detector
    from emotion_core.evaluation import evaluate_face
    from emotion_core.hybrid import HYBRID_MODEL, HybridFacePredictor
    from emotion_core.labels import EMOTIONS
    from emotion_core.modelcard import write_card
    from emotion_core.timing import sample_frame
    from emotion_core.training.seed002 import LBP_GRID, MOBILENET_SIZE, run_seed002

    command = _invocation(args)
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
    detector = load_detector("blazeface", models_dir=settings.models_dir)
    hybrid = HybridFacePredictor.from_dir(args.out, detector=detector)
    report = evaluate_face(args.data, hybrid, prefix="PrivateTest", detect="never", progress=True)
    report.pop("data")
    _record_in_card(args.out, "PrivateTest", report, "python -m emotion_core evaluate face --data "
                    f"{args.data} --prefix PrivateTest --detect never --face-model {HYBRID_MODEL} --model-dir "
                    f"{args.out} --write-card", HYBRID_MODEL)
    results["shipped_hybrid_privatetest"] = {k: report[k] for k in ("n", "accuracy", "macro_f1", "uar",
                                                                    "ms_per_item")}
    _write_json(results, str(args.out / "seed002.json"))
    print(f"comparison, hybrid model and card written to {args.out}")
    return 0


def cmd_evaluate_text(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.errors import InvalidInputError
    from emotion_core.evaluation import evaluate_text
    from emotion_core.labels import UnknownLabelError, to_canonical
    from emotion_core.text import TextPredictor

    data_dirs = args.data or [settings.data_dir / "text"]
    command = _invocation(args)
    if args.write_card and not (args.loco or args.corpus):
        raise InvalidInputError("--write-card: with --corpus or --loco.")
    if args.loco:
        from emotion_core.training.text import leave_one_corpus_out

        loco = leave_one_corpus_out(data_dirs, arm=args.arm, out_dir=args.out)
        if args.json:
            _write_json(loco, args.json)
        if args.write_card:
            _record_in_text_card(args.model_dir or settings.models_dir, ("loco", args.arm),
                                 {**loco, "command": command})
        return 0
    predictor = TextPredictor.from_dir(args.model_dir or settings.models_dir)
    skipped: list[dict[str, str]] = []
    if args.corpus:
        from emotion_core.text_corpora import load_corpus

        corpus = load_corpus(args.corpus, args.split, data_dirs)
        texts, labels = corpus.texts, corpus.labels
        names = [f"{args.corpus} {args.split} {i}" for i in range(1, len(texts) + 1)]
        skipped = [{"path": f"{args.corpus} {args.split}", "reason": f"{count} rows labelled {label!r}: no canonical "
                    "counterpart"} for label, count in corpus.dropped.items()]
    else:
        if len(data_dirs) != 1:
            raise InvalidInputError("--data: give one table (or use --corpus).")
        from emotion_core.media import read_table

        frame = read_table(data_dirs[0])
        missing = {"text", "label"} - set(frame.columns)
        if missing:
            raise InvalidInputError(f"{data_dirs[0]}: needs the columns text and label; missing {', '.join(missing)}.")
        texts, labels, names = [], [], []
        for i, (text, label) in enumerate(zip(frame["text"], frame["label"]), start=1):
            try:
                labels.append(to_canonical(label))
            except UnknownLabelError as exc:
                skipped.append({"path": f"row {i}", "reason": str(exc)})
                continue
            texts.append(text)
            names.append(f"row {i}")
    report = evaluate_text(texts, labels, predictor, names=names, skipped=skipped)
    _print_report(report)
    share = report["neutral_share"]
    print(f"weighted_f1={report['weighted_f1']:.4f}  predicted neutral {share['predicted']:.1%} (true "
          f"{share['true']:.1%})  uncertain {report['uncertain_share']:.1%}")
    if args.json:
        _write_json(report, args.json)
    if args.write_card:
        from emotion_core.text_corpora import check_split

        _record_in_text_card(args.model_dir or settings.models_dir,
                             ("metrics", f"{args.corpus}_{check_split(args.split)}"), {**report, "command": command})
    return 0


def _record_in_text_card(models_dir: Path, where: tuple[str, str], figures: dict[str, Any]) -> None:
    """Store figures in the text model's card under ``card[where[0]][where[1]]``."""
    from emotion_core.modelcard import load_card, write_card
    from emotion_core.text import TEXT_MODEL

    card = load_card(models_dir, TEXT_MODEL)
    card.setdefault(where[0], {})[where[1]] = figures
    path = write_card(models_dir, TEXT_MODEL, card)
    print(f"recorded under {where[0]}[{where[1]!r}] in {path}", file=sys.stderr)


def _record_in_card(models_dir: Path, split: str, report: dict[str, Any], command: str,
                    model: str = "face_expression") -> None:
    """Store an evaluation report in a face model's card under ``metrics[split]``."""
    from emotion_core.modelcard import load_card, write_card
    from emotion_core.timing import machine_info

    card = load_card(models_dir, model)
    card.setdefault("metrics", {})[split] = {**report, "command": command, "machine": machine_info()}
    path = write_card(models_dir, model, card)
    print(f"recorded under metrics[{split!r}] in {path}", file=sys.stderr)


def cmd_train_face(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.face import FACE_MODEL
    from emotion_core.modelcard import write_card
    from emotion_core.training.face import FaceTrainingConfig, train_face

    config = FaceTrainingConfig(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, limit=args.limit,
                                learning_rate=args.learning_rate, weight_decay=args.weight_decay,
                                max_minutes=args.max_minutes, warmup_epochs=args.warmup_epochs,
                                architecture=args.architecture, input_size=args.input_size,
                                init_weights=str(args.init_weights) if args.init_weights else None)
    command = _invocation(args)
    card = train_face(args.data, out_dir=args.out, models_dir=settings.models_dir, config=config,
                      cache_dir=args.cache, rafdb_dir=args.rafdb, command=command)
    write_card(args.out, FACE_MODEL, card)
    if args.no_evaluate:
        print(f"model and card written to {args.out}; calibrate and evaluate it with `calibrate face`")
        return 0
    _calibrate_face_into_card(args.data, args.out, settings)
    _evaluate_face_into_card(args.data, args.out, settings, rafdb=args.rafdb)
    print(f"model and card written to {args.out}")
    return 0


def _evaluate_face_into_card(data: Path, model_dir: Path, settings: Settings, *, rafdb: Path | None = None) -> None:
    """Measure the face model in ``model_dir`` with the same code as `evaluate face`: selection split, then the
    test split (and RAF-DB test, when given), each recorded in its card."""
    from emotion_core.detection import load_detector
    from emotion_core.evaluation import evaluate_face
    from emotion_core.face import FacePredictor

    predictor = FacePredictor.from_dir(model_dir, detector=load_detector("blazeface", models_dir=settings.models_dir))
    for split in ("PublicTest", "PrivateTest"):
        report = evaluate_face(data, predictor, prefix=split, detect="never", progress=True)
        print(f"{split}:")
        _print_report(report)
        _record_in_card(model_dir, split, report, f"python -m emotion_core evaluate face --data {data} "
                        f"--prefix {split} --detect never --model-dir {model_dir} --write-card")
    if rafdb is not None:
        report = evaluate_face(rafdb, predictor, prefix="test", corpus="rafdb", detect="never", progress=True)
        print("RAF-DB test:")
        _print_report(report)
        _record_in_card(model_dir, "rafdb-test", report, f"python -m emotion_core evaluate face --data {rafdb} "
                        f"--corpus rafdb --prefix test --detect never --model-dir {model_dir} --write-card")


def _calibrate_face_into_card(data: Path, model_dir: Path, settings: Settings) -> None:
    """Fit the face model's temperature on PublicTest_* (validation), measure the ECE before and after on both
    test splits, and store both in its card (``inference.temperature``, ``calibration``)."""
    from emotion_core.confidence import ECE_BINS, apply_temperature, expected_calibration_error, fit_temperature
    from emotion_core.detection import load_detector
    from emotion_core.evaluation import face_probabilities
    from emotion_core.face import FACE_MODEL, FacePredictor
    from emotion_core.modelcard import load_card, write_card

    predictor = FacePredictor.from_dir(model_dir, detector=load_detector("blazeface", models_dir=settings.models_dir))
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


def cmd_quantize_face(args: argparse.Namespace, settings: Settings) -> int:
    """Turn a face model into the int8 one `train face` now ships (7-bit weights), and re-measure it.

    A float32 run is quantised as it is. An int8 model whose float32 file was not kept (the shipped one) is
    turned back into its float network first (:func:`~emotion_core.training.export.float_reference`), which is
    measured, then quantised again.
    """
    import onnx

    from emotion_core.detection import load_detector
    from emotion_core.face import FACE_MODEL
    from emotion_core.modelcard import load_card, write_card
    from emotion_core.training.export import WEIGHT_BITS, float_reference
    from emotion_core.training.face import preprocess_split, quantize_classifier

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
        _evaluate_face_into_card(args.data, args.model_dir, settings)
        card = load_card(args.model_dir, FACE_MODEL)
    detector = load_detector("blazeface", models_dir=settings.models_dir)
    train_faces, _ = preprocess_split(args.data, "Training", detector=detector, cache_dir=args.cache)
    seed = card["training"]["config"]["seed"]
    quantization = quantize_classifier(model_path, train_faces, seed=seed)
    command = _invocation(args)
    card["model_id"] = card["model_id"].removesuffix("-float-reference") + f"-int8w{WEIGHT_BITS}"
    card["inference"]["precision"] = "int8"
    card["quantization"] = {**quantization, "command": command, "float32_metrics": card.pop("metrics", {})}
    card["metrics"] = {}
    write_card(args.model_dir, FACE_MODEL, card)
    _calibrate_face_into_card(args.data, args.model_dir, settings)
    _evaluate_face_into_card(args.data, args.model_dir, settings)
    print(f"int8 model and card written to {args.model_dir}")
    return 0


def cmd_calibrate_face(args: argparse.Namespace, settings: Settings) -> int:
    _calibrate_face_into_card(args.data, args.model_dir, settings)
    _evaluate_face_into_card(args.data, args.model_dir, settings, rafdb=args.rafdb)
    print(f"card in {args.model_dir} calibrated and evaluated")
    return 0


def cmd_calibrate_text(args: argparse.Namespace, settings: Settings) -> int:
    """Choose the text model's calibration on every corpus' val split; write it and the before/after figures
    on every corpus' test split into the card."""
    from datetime import datetime, timezone

    from emotion_core.modelcard import load_card, write_card
    from emotion_core.text import TEXT_MODEL, TextPredictor
    from emotion_core.training.text import describe_corpora
    from emotion_core.training.text_calibration import calibration_report

    models_dir = args.model_dir or settings.models_dir
    found = calibration_report(TextPredictor.from_dir(models_dir), args.data or [settings.data_dir / "text"])
    card = load_card(models_dir, TEXT_MODEL)
    card["calibration"] = {**found["calibration"], "chosen_on": "the val splits of every corpus, each weighing the "
                           "same (emotion_core.training.text_calibration)",
                           "validation": found["validation"],
                           "validation_mean_macro_f1_by_neutral_offset":
                               found["validation_mean_macro_f1_by_neutral_offset"], "test": found["test"],
                           "command": _invocation(args),
                           "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    card.setdefault("dataset", {})["evaluation_corpora"] = describe_corpora()
    write_card(models_dir, TEXT_MODEL, card)
    print(f"calibration: {found['calibration']}")
    print(f"validation mean macro-F1 by neutral offset: {found['validation_mean_macro_f1_by_neutral_offset']}")
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


def _store(settings: Settings):
    from emotion_core.store import HistoryStore

    return HistoryStore.open(settings.sqlalchemy_url, media_dir=settings.media_dir)


def _accounts(settings: Settings):
    from emotion_core.accounts import Accounts

    return Accounts(_store(settings))


def _owner():
    """Whoever runs a command owns the data directory: they act with an admin's powers, no sign-in needed."""
    from emotion_core.db import User

    return User(name="(shell)", role="admin")


def _read_password() -> str:
    """The new password from the terminal (asked twice) or, when piped, the first line of standard input."""
    import getpass

    from emotion_core.errors import InvalidInputError

    if sys.stdin.isatty():
        first, second = getpass.getpass("password: "), getpass.getpass("again: ")
        if first != second:
            raise InvalidInputError("the two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    """Create a user from the shell, with the powers of the machine's owner (no sign-in needed)."""
    accounts = _accounts(settings)
    user = accounts.create_user(args.name, _read_password(), args.role, by=_owner() if accounts.count() else None)
    print(f"created {user.role} {user.name!r} in {settings.sqlalchemy_url}")
    return 0


def cmd_users_passwd(args: argparse.Namespace, settings: Settings) -> int:
    """Set a user's password from the shell (a forgotten one, too); their browsers are signed out."""
    _accounts(settings).set_password(args.name, _read_password(), by=_owner())
    print(f"changed the password of {args.name!r} in {settings.sqlalchemy_url}; their browsers are signed out")
    return 0


def cmd_users_set_disabled(args: argparse.Namespace, settings: Settings) -> int:
    """``users disable`` and ``users enable``: a disabled user can neither sign in nor use API tokens."""
    _accounts(settings).set_disabled(args.name, args.action == "disable", by=_owner())
    print(f"{args.action}d {args.name!r} in {settings.sqlalchemy_url}")
    return 0


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    token = _accounts(settings).create_token(args.user, label=args.label)
    print(token)
    print("Keep it now: only a digest is stored, so it cannot be shown again.", file=sys.stderr)
    return 0


def _rule_record(rule) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name, "kind": rule.kind, "labels": list(rule.labels),
            "threshold": rule.threshold, "min_seconds": rule.min_seconds, "enabled": rule.enabled}


def _rule_line(rule: dict[str, Any]) -> str:
    return (f"rule {rule['id']}: {rule['name']!r}, {rule['kind']}, {'/'.join(rule['labels'])} above "
            f"{rule['threshold']:.4g} for {rule['min_seconds']:g} s{'' if rule['enabled'] else ', disabled'}")


def cmd_rules_add(args: argparse.Namespace, settings: Settings) -> int:
    """Add an alert rule, as the Admin page does, with the powers of the machine's owner."""
    from emotion_core.alerts import Rule

    rule = Rule(name=args.name, kind=args.kind, labels=tuple(args.labels), threshold=args.threshold,
                min_seconds=args.seconds)
    print(f"added {_rule_line(_rule_record(_store(settings).save_rule(_owner(), rule)))}")
    return 0


def cmd_rules_list(args: argparse.Namespace, settings: Settings) -> int:
    rules = [_rule_record(rule) for rule in _store(settings).rules()]
    if args.json:
        _write_json(rules, "-")
        return 0
    for rule in rules:
        print(_rule_line(rule))
    if not rules:
        print("no alert rules (add one with `rules add`)")
    return 0


def cmd_rules_delete(args: argparse.Namespace, settings: Settings) -> int:
    _store(settings).delete_rule(_owner(), args.rule_id)
    print(f"deleted rule {args.rule_id}; the alerts it raised stay")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the JSON API with waitress, a production WSGI server (no debug pages, several threads)."""
    import logging

    from waitress import serve

    from emotion_core.api import create_app
    from emotion_core.runtime import set_inference_threads

    set_inference_threads(args.inference_threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app({"ray_address": args.ray_address} if args.ray_address else None)
    print(f"Emotion Lens API on http://{args.host}:{args.port}/api/v1 (Ctrl+C stops)", file=sys.stderr)
    serve(app, host=args.host, port=args.port, threads=args.threads, ident="emotion-lens")
    return 0


def cmd_batch(args: argparse.Namespace, settings: Settings) -> int:
    """Analyse an archive on Ray (see :mod:`emotion_core.batch`); the summary goes to stderr."""
    from dataclasses import replace

    from emotion_core.batch import BatchOptions, run_batch, summary_line

    if args.model_dir:
        settings = replace(settings, models_dir=args.model_dir)
    options = BatchOptions(kinds=tuple(k.strip() for k in args.kinds.split(",") if k.strip()), column=args.column,
                           workers=args.workers, ray_address=args.ray_address, resume=args.resume, stride=args.stride,
                           part_seconds=args.part_seconds, part_rows=args.part_rows, face_model=args.face_model,
                           detector=args.detector or settings.face_detector,
                           photo_detector=args.detector or settings.photo_detector)
    run = run_batch(args.inputs, out_dir=args.out, settings=settings, options=options)
    print(summary_line(run, args.out), file=sys.stderr)
    return 0


def cmd_batch_import(args: argparse.Namespace, settings: Settings) -> int:
    """Record a batch run in a user's history: one analysis per file."""
    from emotion_core.errors import NotFound
    from emotion_core.history import import_batch

    store = _store(settings)
    user = next((u for u in _accounts(settings).users() if u.name == args.user), None)
    if user is None:
        raise NotFound(f"user {args.user!r} does not exist (add one with `users add`).")
    saved, present = import_batch(store, user, args.dir)
    print(f"imported {len(saved)} analyses from {args.dir} for {args.user!r} ({present} already there)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from emotion_core.alerts import NEGATIVE, RULE_KINDS, Rule
    from emotion_core.detection import available_detectors
    from emotion_core.labels import EMOTIONS
    from emotion_core.speech_corpora import CORPORA as SPEECH_CORPORA
    from emotion_core.text_corpora import CORPORA
    from emotion_core.training.face import ARCHITECTURES, FaceTrainingConfig
    from emotion_core.training.speech import SpeechCnnConfig
    from emotion_core.training.text import ARMS, LstmConfig

    parser = argparse.ArgumentParser(prog="python -m emotion_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model-dir", type=Path, help="folder with the models and cards (default: models/)")
        p.add_argument("--face-model", default="face_expression",
                       help="face_expression (our CNN, default) or seed002_hybrid (MobileNetV2 + LBP + Random Forest)")
        p.add_argument("--detector", choices=available_detectors(),
                       help="face detector (default: mtcnn for photos, blazeface for video frames)")

    analyze = sub.add_parser("analyze", help="analyse a photo or a video and print one result per face")
    analyze.add_argument("path", type=Path, nargs="?",
                         help="an image (jpg, png, webp, bmp), a video (mp4, avi, mov, mkv, webm), a .txt file, or a "
                              ".csv/.tsv table of texts")
    analyze.add_argument("--text", help="analyse this text instead of a file")
    analyze.add_argument("--audio", action="store_true", help="video: analyse the speech in its sound track")
    analyze.add_argument("--calibrate", type=Path, nargs="+", metavar="RECORDING",
                         help="speech: other recordings of the same speaker, in any emotion, to calibrate on "
                              "(the speaker-calibrated model; more recordings are better)")
    analyze.add_argument("--column", default="text", help="csv/tsv: the column with the texts (default: text)")
    output = analyze.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the results as JSON")
    output.add_argument("--csv", action="store_true", help="print one CSV row per face (per frame for videos)")
    analyze.add_argument("--stride", type=int, default=1, help="video: analyse every n-th frame (default 1)")
    analyze.add_argument("--detect-every", type=int, default=1,
                         help="video: run the face detector every n-th analysed frame, track in between")
    analyze.add_argument("--smoothing", type=float, default=0.6,
                         help="video: weight of the past in each face's moving average (0: none)")
    analyze.add_argument("--annotated", type=Path, help="video: also write the annotated video (H.264 MP4) here")
    model_options(analyze)
    analyze.set_defaults(handler=cmd_analyze)

    batch = sub.add_parser("batch", help="analyse an archive (folders, globs, lists, tables of texts) on Ray into "
                                         "Parquet tables")
    batch.add_argument("inputs", nargs="+", metavar="INPUT",
                       help="a folder (recursive), a glob, @LIST (a text file naming one path per line), or a file; "
                            "csv/tsv/parquet files are tables of texts (see --column)")
    batch.add_argument("--out", type=Path, required=True,
                       help="folder for items/<kind>.parquet, files.parquet, errors.parquet and manifest.json")
    batch.add_argument("--kinds", default="image,video,audio,text",
                       help="which kinds of files to analyse (default: image,video,audio,text)")
    batch.add_argument("--column", default="text", help="tables: the column with the texts (default: text)")
    batch.add_argument("--ray-address", help="a running Ray cluster (e.g. 10.0.0.1:6379, or auto); default: start "
                                             "Ray on this machine")
    batch.add_argument("--workers", type=int, help="actors analysing side by side, one CPU each (default: every CPU "
                                                   "of the cluster or of this machine)")
    batch.add_argument("--resume", action="store_true",
                       help="continue a run in --out: files already done (by content hash) are skipped")
    batch.add_argument("--stride", type=int, default=1, help="video: analyse every n-th frame (default 1)")
    batch.add_argument("--part-seconds", type=float, default=60.0,
                       help="video: cut longer videos into parts of this many seconds, analysed side by side "
                            "(default 60; face tracks restart at each part)")
    batch.add_argument("--part-rows", type=int, default=5000,
                       help="tables: cut longer tables into parts of this many rows (default 5000)")
    model_options(batch)
    batch.set_defaults(handler=cmd_batch)

    batch_import = sub.add_parser("batch-import", help="record a batch run in a user's history, one analysis per file")
    batch_import.add_argument("dir", type=Path, metavar="DIR", help="the --out folder of a batch run")
    batch_import.add_argument("--user", required=True, help="whose history receives the analyses")
    batch_import.set_defaults(handler=cmd_batch_import)

    evaluate = sub.add_parser("evaluate", help="measure a model on labelled data")
    evaluate_sub = evaluate.add_subparsers(dest="modality", required=True)
    ev_face = evaluate_sub.add_parser("face", help="images in one sub-folder per label (FER-2013 layout)")
    ev_face.add_argument("--data", type=Path, required=True)
    ev_face.add_argument("--prefix", help="only files whose name starts with this (e.g. PrivateTest)")
    ev_face.add_argument("--detect", choices=("auto", "always", "never"), default="auto",
                         help="auto: find faces as analyze does (the detector, then a close-up look, so tight "
                              "crops and photos both work); always: the detector alone; never: every image is "
                              "a face crop")
    ev_face.add_argument("--corpus", choices=("rafdb",),
                         help="label folders named as this corpus names them (rafdb: 1 surprise ... 7 neutral)")
    ev_face.add_argument("--json", help="write the full report to this file ('-' for stdout)")
    ev_face.add_argument("--write-card", action="store_true",
                         help="also record the report in the model's card, under metrics[PREFIX]")
    model_options(ev_face)
    ev_face.set_defaults(handler=cmd_evaluate_face)

    ev_speech = evaluate_sub.add_parser("speech", help="audio files in one sub-folder per label, or a built-in "
                                                       "corpus by its file-name codes")
    ev_speech.add_argument("--data", type=Path, required=True,
                           help="the folder, or with --corpus the speech data folder (../shared/data/speech)")
    ev_speech.add_argument("--corpus", choices=SPEECH_CORPORA,
                           help="read a built-in corpus from --data (EMOVO from --emovo; TESS, TurEV-DB and EYASE "
                                "from $EMOTION_TESS_DIR, $EMOTION_TUREVDB_DIR, $EMOTION_EYASE_DIR)")
    ev_speech.add_argument("--emovo", type=Path, default=os.environ.get("EMOTION_EMOVO_DIR"),
                           help="the EMOVO folder with f1..m3/ (default: $EMOTION_EMOVO_DIR)")
    ev_speech.add_argument("--loco", action="store_true",
                           help="leave-one-corpus-out: train on every corpus found but one, test on that one, for "
                                "each corpus; in-corpus test-speaker figures beside it")
    ev_speech.add_argument("--arms", default="shipped",
                           help="with --loco: comma-separated recipes to compare, 'shipped' (the shipped card's) or "
                                "'all'")
    ev_speech.add_argument("--cache", type=Path, default=Path("runs/cache"),
                           help="with --loco: cache of extracted features (in its speech_features/)")
    ev_speech.add_argument("--recording-sizes", type=_positive_ints, metavar="K,K,...",
                           help="with --loco: for each arm normalised per recording, its LOCO UAR when a recording "
                                "holds only K segments (normalised on itself), beside all of a speaker's clips")
    ev_speech.add_argument("--speakers", choices=("test", "all"), default="test",
                           help="with --corpus: the held-out test speakers (default) or every speaker")
    ev_speech.add_argument("--calibrate", type=_calibration_recordings, metavar="RECORDINGS",
                           help="with --corpus: the speaker-calibrated model, each file's speaker profile from 'all' "
                                "that speaker's other files in the set, or from this many of them (random, seeded)")
    ev_speech.add_argument("--json", help="write the full report to this file ('-' for stdout)")
    ev_speech.add_argument("--model-dir", type=Path, help="folder with the speech model (default: models/)")
    ev_speech.set_defaults(handler=cmd_evaluate_speech)

    ev_text = evaluate_sub.add_parser("text", help="a CSV/TSV file with text and label columns, a built-in corpus, "
                                                   "or leave-one-corpus-out")
    ev_text.add_argument("--data", type=Path, nargs="+",
                         help="the table, or with --corpus / --loco the folders to look for corpora in, in turn "
                              "(default: $EMOTION_DATA_DIR/text)")
    ev_text.add_argument("--corpus", choices=CORPORA, help="read a built-in corpus from --data")
    ev_text.add_argument("--loco", action="store_true",
                         help="leave one corpus out: for each corpus, train --arm on the others and test on it")
    ev_text.add_argument("--arm", default="tfidf", choices=ARMS, help="with --loco: the model trained (default tfidf)")
    ev_text.add_argument("--out", type=Path, default=Path("runs/text_loco"), help="with --loco: run folder")
    ev_text.add_argument("--write-card", action="store_true",
                         help="record the figures in the text model's card (metrics[CORPUS_SPLIT], or loco[ARM])")
    ev_text.add_argument("--split", default="test", help="with --corpus: train, val/dev or test (default test)")
    ev_text.add_argument("--json", help="write the full report to this file ('-' for stdout)")
    ev_text.add_argument("--model-dir", type=Path, help="folder with the text model (default: models/)")
    ev_text.set_defaults(handler=cmd_evaluate_text)

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
    tr_face.add_argument("--rafdb", type=Path,
                         help="RAF-DB's DATASET folder: its train joins training (a seeded 10%% joins selection), "
                              "its test is reported")
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
    qu_face.set_defaults(handler=cmd_quantize_face)

    calibrate = sub.add_parser("calibrate", help="calibrate a shipped model's decisions on validation data")
    calibrate_sub = calibrate.add_subparsers(dest="modality", required=True)
    ca_text = calibrate_sub.add_parser("text", help="temperature, neutral offset and uncertain threshold on every "
                                                    "corpus' val split, into the text model's card")
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

    serve = sub.add_parser("serve", help="serve the JSON API (waitress)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                       help="request threads (default: one per CPU core; requests are compute-bound, and waitress "
                            "reads uploads and writes answers outside these threads, so more only queue inside)")
    serve.add_argument("--inference-threads", type=int, default=1,
                       help="ONNX Runtime threads per model (default 1: requests run in parallel; 0 = every core)")
    serve.add_argument("--ray-address", help="run video and multimodal jobs on this Ray cluster (HOST:PORT, or "
                                             "'local' for Ray on this machine); requests answered at once stay here")
    serve.set_defaults(handler=cmd_serve)

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

    tr_text = train_sub.add_parser("text", help="dair-ai emotion + GoEmotions: compare arms on the same splits, "
                                                "export the BiLSTM")
    tr_text.add_argument("--data", type=Path, nargs="+", required=True,
                         help="the text data folder (../shared/data/text); with --corpora, the folders to look "
                              "for the corpora in, in turn")
    tr_text.add_argument("--corpora", help="'all' or a comma-separated list of corpora: train the BiLSTM alone on "
                                           "their train splits, calibrate and test on each (not shipped)")
    tr_text.add_argument("--out", type=Path, default=Path("runs/text"))
    tr_text.add_argument("--arms", default="tfidf,bilstm,minilm_frozen,minilm_finetuned",
                         help="comma-separated arms to train and compare (minilm_finetuned takes about an hour)")
    tr_text.add_argument("--epochs", type=int, default=LstmConfig.epochs, help="BiLSTM epochs")
    tr_text.add_argument("--limit", type=int, help="use only N texts of each split (smoke test)")
    tr_text.set_defaults(handler=cmd_train_text)

    users = sub.add_parser("users", help="manage accounts (state lives under EMOTION_LENS_HOME)")
    users_sub = users.add_subparsers(dest="action", required=True)
    users_add = users_sub.add_parser("add", help="add a user; the password is read from standard input")
    users_add.add_argument("name")
    users_add.add_argument("--role", choices=("admin", "analyst", "viewer"), required=True)
    users_add.set_defaults(handler=cmd_users_add)
    users_passwd = users_sub.add_parser("passwd", help="set a user's password, read like add's; signs them out")
    users_passwd.add_argument("name")
    users_passwd.set_defaults(handler=cmd_users_passwd)
    for action, effect in (("disable", "no sign-in and no API token until enabled again"),
                           ("enable", "a disabled user may sign in and use their tokens again")):
        users_state = users_sub.add_parser(action, help=f"{action} a user: {effect}")
        users_state.add_argument("name")
        users_state.set_defaults(handler=cmd_users_set_disabled)

    token = sub.add_parser("token", help="API tokens for the JSON API")
    token_sub = token.add_subparsers(dest="action", required=True)
    token_create = token_sub.add_parser("create", help="print a new token for a user (shown once)")
    token_create.add_argument("--user", required=True)
    token_create.add_argument("--label", default="", help="a note to recognise the token by")
    token_create.set_defaults(handler=cmd_token_create)

    rules = sub.add_parser("rules", help="alert rules, as on the Admin page (state lives under EMOTION_LENS_HOME)")
    rules_sub = rules.add_subparsers(dest="action", required=True)
    rules_add = rules_sub.add_parser("add", help="add a rule; it applies to every analysis saved from now on")
    rules_add.add_argument("--name", required=True, help="how its alerts are titled")
    rules_add.add_argument("--kind", default=RULE_KINDS[0],
                           help="sustained (default): the labels' summed probability stays above the threshold "
                                "for the duration; multimodal: two modalities average above it in a window of "
                                "the duration")
    rules_add.add_argument("--labels", nargs="+", default=list(NEGATIVE), metavar="LABEL",
                           help=f"emotions whose probabilities are summed, of {', '.join(EMOTIONS)} "
                                f"(default: {' '.join(NEGATIVE)})")
    rules_add.add_argument("--threshold", type=float, default=Rule.threshold,
                           help=f"above 0 and at most 1 (default {Rule.threshold})")
    rules_add.add_argument("--seconds", type=float, default=Rule.min_seconds,
                           help=f"duration, or window for multimodal (default {Rule.min_seconds:g})")
    rules_add.set_defaults(handler=cmd_rules_add)
    rules_list = rules_sub.add_parser("list", help="every rule, enabled or not")
    rules_list.add_argument("--json", action="store_true", help="print the rules as JSON")
    rules_list.set_defaults(handler=cmd_rules_list)
    rules_delete = rules_sub.add_parser("delete", help="delete a rule (the alerts it raised stay)")
    rules_delete.add_argument("rule_id", type=int, metavar="ID", help="as `rules list` shows it")
    rules_delete.set_defaults(handler=cmd_rules_delete)
    return parser


TRAINING_PACKAGES = frozenset({"keras", "torch", "onnx", "onnxscript", "skl2onnx", "sentence_transformers"})
"""Installed by requirements-train.txt only: the app, the API and analysis run without them."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.handler(args, Settings.from_env())
    except EmotionLensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in TRAINING_PACKAGES:
            raise
        print(f"error: this command needs the training packages ({exc.name} is missing): "
              "pip install -r requirements-train.txt", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader (e.g. `head`) closed the pipe: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
