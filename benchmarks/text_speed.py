"""Sentences per second of the shipped text-emotion model, once it is loaded.

    python -m benchmarks.text_speed [--sentences 5000] [--out benchmarks/results/text_speed.json]

The sentences are made up here from a small vocabulary (lengths 5 to 30 words), so no corpus is needed.
Two figures: a batch (a CSV column, the batch tab) and one sentence at a time (the text box), each the
median of five runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import emotion_core  # noqa: F401  (sets the Keras backend first)
from benchmarks.common import machine_info, save_results
from emotion_core.config import Settings
from emotion_core.text.predictor import TextPredictor

WORDS = ("i feel so happy today because my friends came over and we laughed about the old days but then the "
         "news made me angry and sad and a little afraid of what might happen next at work this week").split()


def made_up_sentences(count: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, rng.integers(5, 31))) + "." for _ in range(count)]


def sentences_per_second(function, sentences: list[str], runs: int = 5) -> float:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        function(sentences)
        durations.append(time.perf_counter() - started)
    return len(sentences) / float(np.median(durations))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/text_speed.json"))
    args = parser.parse_args()
    predictor = TextPredictor.from_dir(Settings.from_env().models_dir)
    sentences = made_up_sentences(args.sentences)
    predictor.predict(sentences[:10])  # warm-up
    batch = sentences_per_second(predictor.predict, sentences)
    single = sentences_per_second(lambda texts: [predictor.predict([t]) for t in texts], sentences[:500])
    results = {"machine": machine_info(), "model_id": predictor.model_id, "sentences": args.sentences,
               "batch_sentences_per_second": round(batch), "one_at_a_time_sentences_per_second": round(single)}
    print(f"batch: {batch:.0f} sentences/s; one at a time: {single:.0f} sentences/s")
    save_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
