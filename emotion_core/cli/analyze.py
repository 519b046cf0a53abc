"""``analyze``: a photo, a video, a recording or a text, one result per face, segment or sentence."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from emotion_core.cli.common import add_model_options, face_predictor, write_json
from emotion_core.config import Settings


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this family's commands to the top-level sub-command parsers."""
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
    add_model_options(analyze)
    analyze.set_defaults(handler=cmd_analyze)



def cmd_analyze(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.errors import InvalidInputError
    from emotion_core.face.video import VIDEO_TYPES
    from emotion_core.media import IMAGE_TYPES
    from emotion_core.speech.audio import AUDIO_TYPES

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
    from emotion_core.predictors import load_predictors
    from emotion_core.speech.analysis import analyze_audio
    from emotion_core.speech.predictor import profile_from_recordings

    predictors = load_predictors(settings)
    if args.calibrate:
        profile = profile_from_recordings([(path, str(path)) for path in args.calibrate],
                                          max_seconds=settings.max_calibration_seconds)
        predictor = predictors.calibrated_speech().for_speaker(profile)
    else:
        predictor = predictors.speech()
    analysis = analyze_audio(args.path, predictor, name=str(args.path), max_seconds=settings.max_audio_seconds)
    if args.json:
        write_json(analysis.to_dict(), "-")
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
    from emotion_core.text.analysis import analyze_text

    analysis = analyze_text(text, load_predictors(settings).text(), source=source)
    if args.json:
        write_json(analysis.to_dict(), "-")
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
    from emotion_core.text.analysis import analyze_text_column

    combined = analyze_text_column(read_table(args.path), args.column, load_predictors(settings).text(),
                                   source=str(args.path))
    if args.json:
        write_json(json.loads(combined.to_json(orient="records")), "-")
    else:
        combined.to_csv(sys.stdout, index=False)
    return 0


def _analyze_image(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.face.analysis import analyze_image
    from emotion_core.media import read_file

    analysis = analyze_image(read_file(args.path), face_predictor(args, settings, photos=True),
                             source=str(args.path), max_pixels=settings.max_image_pixels)
    if args.json:
        write_json(analysis.to_dict(), "-")
    elif args.csv:
        analysis.face_table().to_csv(sys.stdout, index=False)
    else:
        print(f"{args.path}: {len(analysis.faces)} face(s)")
        for i, face in enumerate(analysis.faces, 1):
            doubt = f", uncertain: {face.uncertain}" if face.uncertain else ""
            print(f"  face {i} at {face.box}: {face.label} ({face.confidence:.0%}{doubt})")
    return 0


def _analyze_video(args: argparse.Namespace, settings: Settings) -> int:
    from emotion_core.face.video import analyze_video

    analysis = analyze_video(args.path, face_predictor(args, settings, photos=False), name=str(args.path),
                             stride=args.stride, detect_every=args.detect_every, smoothing=args.smoothing,
                             annotate=args.annotated is not None, max_bytes=settings.max_upload_bytes)
    if args.annotated is not None and analysis.annotated_mp4:
        args.annotated.write_bytes(analysis.annotated_mp4)
        print(f"wrote {args.annotated}", file=sys.stderr)
    for warning in analysis.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        write_json(analysis.to_dict(), "-")
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
    from emotion_core.face.stream import rows_table

    rows_table(rows).to_csv(sys.stdout, index=False)

