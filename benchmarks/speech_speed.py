"""How many times faster than real time the speech analysis runs, once the model is loaded.

    python -m benchmarks.speech_speed [--repeats 5] [--out benchmarks/results/speech_speed.json]
    python -m benchmarks.speech_speed --calibrated --out benchmarks/results/speech_speed_calibrated.json

The input is a minute of real synthetic speech: espeak-ng reading a paragraph (sentences with pauses between
them), decoded from WAV bytes like an upload. Each repeat runs the whole analysis (decoding, voice activity
detection, the shipped model's features and classifier per segment, segments in parallel over the cores, the
utterance summary); the figure is audio seconds divided by the median wall-clock seconds. ``--calibrated``
measures the speaker-calibrated model, with a profile built once from the same minute of speech (its time is
reported separately: it is paid once per speaker, not per analysis). A recording with enough voiced segments is
judged by the self-calibrated model, as in the app (``--seconds 300`` gives it 58 segments):

    python -m benchmarks.speech_speed --seconds 300 --out benchmarks/results/speech_speed_self_calibrated.json
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

import emotion_core  # noqa: F401  (sets the Keras backend first)
from benchmarks.common import machine_info, save_results
from emotion_core.config import Settings
from emotion_core.speech.analysis import analyze_audio
from emotion_core.speech.audio import decode_audio
from emotion_core.speech.predictor import CALIBRATED_SPEECH_MODEL, SPEECH_MODEL, SpeechPredictor, speaker_profile

PARAGRAPH = (
    "I can't believe you did that to me. This is outrageous! We waited for hours and nobody came. "
    "Well, that is wonderful news, thank you so much. I am really happy for both of you. "
    "Please, don't leave me here alone in the dark. What was that noise? "
    "It doesn't matter anymore, everything is gone. The meeting is on Tuesday at nine. "
)


def minute_of_speech(seconds: float = 60.0) -> bytes:
    """espeak-ng reading :data:`PARAGRAPH` over and over until ``seconds``, as 16-bit WAV bytes."""
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is needed for this benchmark (apt-get install espeak-ng).")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(path), PARAGRAPH], check=True, capture_output=True)
        samples, rate = soundfile.read(path, dtype="float32")
    pause = np.zeros(int(rate * 0.5), np.float32)
    piece = np.concatenate([samples, pause])
    repeated = np.tile(piece, int(np.ceil(seconds * rate / len(piece))))[: int(seconds * rate)]
    buffer = io.BytesIO()
    soundfile.write(buffer, repeated, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--calibrated", action="store_true", help="the speaker-calibrated model")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/speech_speed.json"))
    args = parser.parse_args()
    models_dir = Settings.from_env().models_dir
    predictor = SpeechPredictor.from_dir(models_dir, model=CALIBRATED_SPEECH_MODEL if args.calibrated else SPEECH_MODEL)
    wav = minute_of_speech(args.seconds)
    calibration = {}
    if args.calibrated:
        speaker_profile([decode_audio(wav, name="speech.wav")])  # warm-up: the first call compiles librosa's code
        started = time.perf_counter()
        profile = speaker_profile([decode_audio(wav, name="speech.wav")])
        calibration = {"profile_segments": profile.segments,
                       "profile_seconds": round(time.perf_counter() - started, 4)}
        predictor = predictor.for_speaker(profile)
    analysis = analyze_audio(wav, predictor, name="speech.wav")  # warm-up, and proof that voice was found
    if analysis.overall is None:
        raise SystemExit(f"no result on the benchmark audio: {analysis.reason}")
    durations = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        analyze_audio(wav, predictor, name="speech.wav")
        durations.append(time.perf_counter() - started)
    median = float(np.median(durations))
    results = {
        "machine": machine_info(),
        "model_id": analysis.overall.model_id,  # the self-calibrated model's when the recording is long enough
        "audio": f"{args.seconds:.0f} s of espeak-ng speech, 16-bit WAV",
        "segments": len(analysis.segments),
        "repeats": args.repeats,
        "median_seconds": round(median, 4),
        "times_real_time": round(args.seconds / median, 1),
        **calibration,
    }
    print(f"{results['segments']} segments; {median:.3f} s for {args.seconds:.0f} s of audio: "
          f"{results['times_real_time']}x real time")
    save_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
