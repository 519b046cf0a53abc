"""``evaluate face|speech|text``: a model measured on labelled data, optionally recorded in its card."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from emotion_core.cli.common import add_model_options, face_predictor, invocation, print_report, write_json
from emotion_core.config import Settings


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this family's commands to the top-level sub-command parsers."""
    from emotion_core.speech.corpora import CORPORA as SPEECH_CORPORA
    from emotion_core.text.corpora import CORPORA
    from emotion_core.training.text.train import ARMS

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
    ev_face.add_argument("--ferplus", type=Path,
                         help="FER+'s folder (FER2013*/label.csv and images): judge FER-2013 pictures against the "
                              "emotion most of FER+'s ten voters gave them; pictures without one are skipped")
    ev_face.add_argument("--json", help="write the full report to this file ('-' for stdout)")
    ev_face.add_argument("--write-card", action="store_true",
                         help="also record the report in the model's card, under metrics[PREFIX]")
    add_model_options(ev_face)
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
    ev_text.add_argument("--arm", default="tfidf", choices=ARMS,
                         help="with --loco: the model trained (default tfidf; bilstm is the several-corpora recipe "
                              "that `train text --corpora` uses, bilstm_distilled the shipped one, taught by a MiniLM "
                              "fine-tuned on the same folds: about 40 minutes a fold on 2 CPU cores, resumable in "
                              "--out)")
    ev_text.add_argument("--out", type=Path, default=Path("runs/text_loco"), help="with --loco: run folder")
    ev_text.add_argument("--write-card", action="store_true",
                         help="record the figures in the text model's card (metrics[CORPUS_SPLIT], or loco[ARM])")
    ev_text.add_argument("--split", default="test", help="with --corpus: train, val/dev or test (default test)")
    ev_text.add_argument("--json", help="write the full report to this file ('-' for stdout)")
    ev_text.add_argument("--model-dir", type=Path, help="folder with the text model (default: models/)")
    ev_text.set_defaults(handler=cmd_evaluate_text)



def cmd_evaluate_face(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.evaluation import evaluate_face

    predictor = face_predictor(args, settings, photos=True)
    report = evaluate_face(args.data, predictor, prefix=args.prefix, detect=args.detect,
                           max_pixels=settings.max_image_pixels, progress=True, corpus=args.corpus,
                           ferplus_dir=args.ferplus)
    print_report(report)
    if args.json:
        write_json(report, args.json)
    if args.write_card:
        split = args.prefix or Path(args.data).name
        split = f"{args.corpus}-{split}" if args.corpus else split
        split = f"ferplus-{split}" if args.ferplus else split
        record_in_card(args.model_dir or settings.models_dir, split, report,
                        invocation(args), args.face_model)
    return 0


def cmd_evaluate_speech(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.datasets import find_labelled_files
    from emotion_core.errors import InvalidInputError
    from emotion_core.evaluation import evaluate_speech
    from emotion_core.speech.audio import AUDIO_TYPES
    from emotion_core.speech.predictor import CALIBRATED_SPEECH_MODEL, SPEECH_MODEL, SpeechPredictor

    if args.loco:
        return _evaluate_speech_loco(args, settings)
    if args.calibrate and not args.corpus:
        raise InvalidInputError("--calibrate needs --corpus: the speakers are read from the corpus' file names.")
    model = CALIBRATED_SPEECH_MODEL if args.calibrate else SPEECH_MODEL
    predictor = SpeechPredictor.from_dir(args.model_dir or settings.models_dir, model=model)
    speakers = None
    if args.corpus:
        from emotion_core.speech.corpora import speech_corpus_clips

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
    print_report(report)
    if args.json:
        write_json(report, args.json)
    return 0


def _evaluate_speech_loco(args: argparse.Namespace, settings: Settings) -> int:
    """``evaluate speech --loco``: each arm trained on all corpora but one and tested on that one, beside its
    in-corpus test figures (features cached in ``--cache``)."""
    from emotion_core.modelcard import load_card
    from emotion_core.speech.corpora import speech_corpus_clips
    from emotion_core.speech.predictor import SPEECH_MODEL
    from emotion_core.timing import machine_info
    from emotion_core.training.speech.loco import CorpusFeatures, arms_by_name, compare_arms, loco_table
    from emotion_core.training.speech.self_calibration import recording_size_table

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
        figures[arm.name]["recording_sizes"] = {**sizes, "command": invocation(args), "machine": machine_info()}
        print_recording_sizes(sizes)
    if args.json:
        write_json(figures, args.json)
    return 0


def print_recording_sizes(table: dict[str, Any]) -> None:
    print(f"arm {table['arm']}, a recording normalised on itself: UAR by its number of segments "
          "(LOCO mean; LOCO per corpus | in-corpus per corpus)")
    for size, row in table["sizes"].items():
        print(f"  {size:>4}: {row['loco_mean_uar']:.4f}  "
              + "  ".join(f"{c} {r['uar']:.4f}" for c, r in row["loco"].items()) + "  |  "
              + "  ".join(f"{c} {r['uar']:.4f}" for c, r in row["in_corpus"].items()))


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


def cmd_evaluate_text(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.errors import InvalidInputError
    from emotion_core.evaluation import evaluate_text
    from emotion_core.labels import UnknownLabelError, to_canonical
    from emotion_core.text.predictor import TextPredictor

    data_dirs = args.data or [settings.data_dir / "text"]
    command = invocation(args)
    if args.write_card and not (args.loco or args.corpus):
        raise InvalidInputError("--write-card: with --corpus or --loco.")
    if args.loco:
        from emotion_core.training.text.train import leave_one_corpus_out

        loco = leave_one_corpus_out(data_dirs, arm=args.arm, out_dir=args.out)
        if args.json:
            write_json(loco, args.json)
        if args.write_card:
            _record_in_text_card(args.model_dir or settings.models_dir, ("loco", args.arm),
                                 {**loco, "command": command})
        return 0
    predictor = TextPredictor.from_dir(args.model_dir or settings.models_dir)
    skipped: list[dict[str, str]] = []
    if args.corpus:
        from emotion_core.text.corpora import load_corpus

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
    print_report(report)
    share = report["neutral_share"]
    print(f"weighted_f1={report['weighted_f1']:.4f}  predicted neutral {share['predicted']:.1%} (true "
          f"{share['true']:.1%})  uncertain {report['uncertain_share']:.1%}")
    if args.json:
        write_json(report, args.json)
    if args.write_card:
        from emotion_core.text.corpora import check_split

        _record_in_text_card(args.model_dir or settings.models_dir,
                             ("metrics", f"{args.corpus}_{check_split(args.split)}"), {**report, "command": command})
    return 0


def _record_in_text_card(models_dir: Path, where: tuple[str, str], figures: dict[str, Any]) -> None:
    """Store figures in the text model's card under ``card[where[0]][where[1]]``."""
    from emotion_core.modelcard import load_card, write_card
    from emotion_core.text.predictor import TEXT_MODEL

    card = load_card(models_dir, TEXT_MODEL)
    card.setdefault(where[0], {})[where[1]] = figures
    path = write_card(models_dir, TEXT_MODEL, card)
    print(f"recorded under {where[0]}[{where[1]!r}] in {path}", file=sys.stderr)


def record_in_card(models_dir: Path, split: str, report: dict[str, Any], command: str,
                    model: str = "face_expression") -> None:
    """Store an evaluation report in a face model's card under ``metrics[split]``."""
    from emotion_core.modelcard import load_card, write_card
    from emotion_core.timing import machine_info

    card = load_card(models_dir, model)
    card.setdefault("metrics", {})[split] = {**report, "command": command, "machine": machine_info()}
    path = write_card(models_dir, model, card)
    print(f"recorded under metrics[{split!r}] in {path}", file=sys.stderr)

