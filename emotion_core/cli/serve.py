"""``serve``, ``batch`` and ``batch-import``: the JSON API, and an archive analysed on Ray into history."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from emotion_core.cli.admin import open_accounts, open_store
from emotion_core.cli.common import add_model_options
from emotion_core.config import Settings


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this family's commands to the top-level sub-command parsers."""
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
    add_model_options(batch)
    batch.set_defaults(handler=cmd_batch)

    batch_import = sub.add_parser("batch-import", help="record a batch run in a user's history, one analysis per file")
    batch_import.add_argument("dir", type=Path, metavar="DIR", help="the --out folder of a batch run")
    batch_import.add_argument("--user", required=True, help="whose history receives the analyses")
    batch_import.set_defaults(handler=cmd_batch_import)



def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the JSON API with waitress, a production WSGI server (no debug pages, several threads)."""
    import logging

    from waitress import serve

    from emotion_core.api.app import create_app
    from emotion_core.runtime import set_inference_threads

    set_inference_threads(args.inference_threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app({"ray_address": args.ray_address} if args.ray_address else None)
    print(f"Emotion Lens API on http://{args.host}:{args.port}/api/v1 (Ctrl+C stops)", file=sys.stderr)
    serve(app, host=args.host, port=args.port, threads=args.threads, ident="emotion-lens")
    return 0


def cmd_batch(args: argparse.Namespace, settings: Settings) -> int:
    """Analyse an archive on Ray (see :mod:`emotion_core.batch.runner`); the summary goes to stderr."""
    from dataclasses import replace

    from emotion_core.batch.runner import BatchOptions, run_batch, summary_line

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
    from emotion_core.storage.history import import_batch

    store = open_store(settings)
    user = next((u for u in open_accounts(settings).users() if u.name == args.user), None)
    if user is None:
        raise NotFound(f"user {args.user!r} does not exist (add one with `users add`).")
    saved, present = import_batch(store, user, args.dir)
    print(f"imported {len(saved)} analyses from {args.dir} for {args.user!r} ({present} already there)")
    return 0

