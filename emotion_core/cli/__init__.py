"""Command line: ``python -m emotion_core analyze|evaluate|train ...``.

Every command loads its models once, prints a short human summary, and writes JSON where asked. Errors that
the user can fix (bad file, missing folder) end with a one-line message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from emotion_core.cli import admin, analyze, evaluate, serve, train
from emotion_core.config import Settings
from emotion_core.errors import EmotionLensError

COMMAND_FAMILIES = (analyze, serve, evaluate, train, admin)
"""Each module adds its commands (``add_commands``) and holds their handlers."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emotion_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for family in COMMAND_FAMILIES:
        family.add_commands(sub)
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
