"""Long recordings of one speaker, judged as the app judges an upload: does self-calibration pay on real voices?

    python -m benchmarks.speech_interview --data ../shared/data/speech --corpus tess --clips-per-label 10 \
        [--speakers OAF,YAF] [--out benchmarks/results/speech_interview.json]

For each speaker, labelled clips of the corpus (the same number of each emotion, drawn with a fixed seed, in a
random order) are joined with 0.8 s pauses into one recording, a stand-in for an interview of a few minutes. The
recording goes through :func:`~emotion_core.speech.analysis.analyze_audio` with the shipped speech predictor (which
hands a recording with enough voiced segments to the self-calibrated model), and through the single-clip model
alone. Each clip's label is the duration-weighted mean of the segments whose middle falls in it; a clip with no
segment counts as wrong. Corpora that neither model trained on (TESS, TurEV-DB, EYASE: give their folders by
``EMOTION_TESS_DIR`` and the others) say how each does on voices it never heard; for RAVDESS, EmoDB and EMOVO
only their test speakers are judged (the default ``--speakers``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import emotion_core  # noqa: F401  (sets the Keras backend first)
from benchmarks.common import machine_info, save_results
from emotion_core.config import Settings
from emotion_core.evaluation import classification_report
from emotion_core.labels import EMOTIONS
from emotion_core.result import EmotionResult
from emotion_core.speech.analysis import analyze_audio
from emotion_core.speech.audio import SAMPLE_RATE, Audio, decode_audio
from emotion_core.speech.corpora import SpeechClip, speech_corpus_clips
from emotion_core.speech.predictor import SpeechPredictor

PAUSE_S = 0.8
NO_VOICE = "no voice"


def interview(clips: list[SpeechClip], *, per_label: int, seed: int = 0) -> tuple[Audio, list[SpeechClip],
                                                                                    list[tuple[float, float]]]:
    """One recording of ``per_label`` clips of each emotion (all of them when fewer), shuffled, with pauses; the
    clips in their order and their time spans."""
    rng = np.random.default_rng(seed)
    chosen = []
    for label in EMOTIONS:
        mine = [c for c in clips if c.label == label]
        chosen += [mine[i] for i in rng.permutation(len(mine))[:per_label]]
    chosen = [chosen[i] for i in rng.permutation(len(chosen))]
    pause = np.zeros(int(PAUSE_S * SAMPLE_RATE), np.float32)
    pieces, spans, start = [pause], [], PAUSE_S
    for clip in chosen:
        samples = decode_audio(clip.path).samples
        pieces += [samples, pause]
        spans.append((start, start + len(samples) / SAMPLE_RATE))
        start += (len(samples) + len(pause)) / SAMPLE_RATE
    return Audio(samples=np.concatenate(pieces), source="interview"), chosen, spans


def clip_labels(segments: list[EmotionResult], spans: list[tuple[float, float]]) -> list[str]:
    """Each clip's label: the duration-weighted mean of the segments whose middle lies in it."""
    labels = []
    for start, end in spans:
        mine = [r for r in segments if start - 0.05 <= (r.span[0] + r.span[1]) / 2 <= end + 0.05]
        if not mine:
            labels.append(NO_VOICE)
            continue
        weights = np.array([r.span[1] - r.span[0] for r in mine])
        probs = np.array([[r.scores[e] for e in EMOTIONS] for r in mine])
        labels.append(EMOTIONS[int((probs * weights[:, None]).sum(0).argmax())])
    return labels


def _figures(truth: list[str], predicted: list[str], segments: list[EmotionResult]) -> dict:
    report = classification_report(truth, predicted, labels=(*EMOTIONS, NO_VOICE))  # no voice: always wrong
    return {"uar": report["uar"], "accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
            "uncertain_share": round(float(np.mean([r.uncertain is not None for r in segments])), 4),
            "model_id": segments[0].model_id if segments else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared speech folder (RAVDESS, EmoDB)")
    parser.add_argument("--emovo", type=Path, help="EMOVO's folder")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--speakers", help="comma-separated; default: the corpus' test speakers, or all of them "
                                           "for a corpus the shipped models never trained on")
    parser.add_argument("--clips-per-label", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/speech_interview.json"))
    args = parser.parse_args()
    models_dir = Settings.from_env().models_dir
    shipped = SpeechPredictor.from_dir(models_dir)
    if shipped.self_calibrated is None:
        raise SystemExit("the self-calibrated speech model is not in the models folder")
    clips = [c for c in speech_corpus_clips(args.data, emovo_dir=args.emovo, corpora=(args.corpus,)) if c.label]
    trained_on = args.corpus in ("ravdess", "emodb", "emovo")
    speakers = (args.speakers.split(",") if args.speakers else
                sorted({c.speaker for c in clips if c.split == "test" or not trained_on}))
    earlier = json.loads(args.out.read_text()).get("corpora", {}) if args.out.is_file() else {}
    results = {k: v for k, v in earlier.items() if k != args.corpus}  # one file, a corpus per run
    rows = {}
    for speaker in speakers:
        audio, chosen, spans = interview([c for c in clips if c.speaker == speaker], per_label=args.clips_per_label)
        truth = [c.label for c in chosen]
        analysis = analyze_audio(audio, shipped)
        single = shipped.predict(audio)
        rows[speaker] = {"seconds": round(audio.seconds, 1), "clips": len(chosen), "segments": len(analysis.segments),
                         "calibration": analysis.calibration,
                         "shipped": _figures(truth, clip_labels(analysis.segments, spans), analysis.segments),
                         "single_clip_model": _figures(truth, clip_labels(single, spans), single)}
        print(f"{args.corpus} {speaker}: {audio.seconds:.0f} s, {len(chosen)} clips, {len(analysis.segments)} "
              f"segments; as shipped UAR {rows[speaker]['shipped']['uar']:.3f} ({analysis.overall.model_id}); "
              f"single-clip model UAR {rows[speaker]['single_clip_model']['uar']:.3f}")
    results[args.corpus] = {"trained_on_by_the_self_calibrated_model": trained_on, "speakers": rows,
                            "mean_uar": {way: round(float(np.mean([r[way]["uar"] for r in rows.values()])), 4)
                                         for way in ("shipped", "single_clip_model")},
                            "clips_per_label": args.clips_per_label,
                            "command": "python -m benchmarks.speech_interview " + " ".join(sys.argv[1:])}
    save_results({"benchmark": __doc__.splitlines()[0], "protocol": __doc__.split("\n\n", 2)[2].strip(),
                  "machine": machine_info(), "corpora": results}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
