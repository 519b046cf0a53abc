"""Train and compare speech-emotion models on RAVDESS and EmoDB, speaker-independently.

Every clip's speaker is in exactly one of train, validation and test (:data:`SPLIT`). Two arms are compared
on the same speakers:

- the seed paper's deep model (001): a 1-D CNN over MFCC frames, trained on the train speakers, its epoch
  chosen on the validation speakers;
- a classical model: openSMILE's ComParE 2016 functionals, standardised, multinomial logistic regression.
  Training clips are also seen sped up and slowed down (speed perturbation, which shifts pitch and formants
  like another speaker's voice would). Its regularisation is chosen by speaker-grouped cross-validation over
  the train and validation speakers.

Each arm is first fitted on the train speakers alone and scored on the validation speakers; the better one is
shipped (the classical one refitted on train and validation speakers together). Both arms' test figures go
into the model card, measured through :class:`~emotion_core.speech.predictor.SpeechPredictor` exactly as
``evaluate speech`` does.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from emotion_core.labels import EMOTIONS
from emotion_core.training.speech.cnn import SpeechCnnConfig, cnn_arm
from emotion_core.training.speech.data import corpus_clips, data_sections
from emotion_core.training.speech.functionals import FunctionalsConfig, calibrated_model, cross_corpus, functionals_arm
from emotion_core.training.speech.measure import test_files_of


def train_speech(data_dir: str | Path, *, out_dir: str | Path, config: SpeechCnnConfig | None = None,
                 functionals_config: FunctionalsConfig | None = None, command: str = "",
                 cache_dir: Path | None = None) -> dict[str, Any]:
    """Train both arms on the train speakers, ship the one better on the validation speakers, evaluate both on
    the test speakers of each corpus, run the cross-corpus checks, and write the card into ``out_dir``."""
    from datetime import datetime, timezone

    from emotion_core.modelcard import write_card
    from emotion_core.speech.predictor import SPEECH_MODEL

    config, functionals_config = config or SpeechCnnConfig(), functionals_config or FunctionalsConfig()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    clips = corpus_clips(data_dir)
    tests = {corpus: test_files_of(clips, corpus) for corpus in ("ravdess", "emodb")}

    cnn = cnn_arm(clips, config, out_dir, cache_dir, tests, model_id=f"speech-cnn-ravdess-emodb-{started:%Y%m%d}")
    functionals = functionals_arm(clips, functionals_config, out_dir, cache_dir, tests,
                                   model_id=f"speech-compare-lr-ravdess-emodb-{started:%Y%m%d}")
    arms = {"cnn_mfcc": cnn, "compare_logistic_regression": functionals}
    shipped_name = max(arms, key=lambda name: arms[name]["report"]["validation_mean_uar"])
    shipped = arms[shipped_name]
    shutil.copyfile(shipped["model_path"], out_dir / f"{SPEECH_MODEL}.onnx")
    card = {
        "model_id": shipped["model_id"],
        "task": "speech emotion",
        "modality": "speech",
        "file": f"{SPEECH_MODEL}.onnx",
        "labels": list(EMOTIONS),
        "architecture": shipped["architecture"],
        "input": shipped["input"],
        "inference": {"runtime": "onnxruntime", "segments": "energy voice-activity detection, segments of at most "
                      "6 s, each classified", "utterance": "duration-weighted mean of the segments"},
        **data_sections(clips),
        "training": {"command": command, "date": started.isoformat(timespec="seconds"),
                     "minutes": round((datetime.now(timezone.utc) - started).total_seconds() / 60, 1),
                     "shipped_arm": shipped_name,
                     "arm_choice": "higher mean UAR over the two corpora' validation speakers, each arm fitted on "
                                   "the train speakers only",
                     **shipped["training"]},
        "comparison": {"arms": {name: arm["report"] for name, arm in arms.items()}},
        "cross_corpus": cross_corpus(functionals["data"], functionals["c"], functionals_config),
        "metrics": {**shipped["metrics"],
                    "evaluation_command": "python -m emotion_core evaluate speech --corpus ravdess "
                                          "--data ../shared/data/speech --json OUT"},
    }
    write_card(out_dir, SPEECH_MODEL, card)
    calibrated_model(clips, functionals["data"], functionals_config, out_dir, tests, started=started,
                      command=command, uncalibrated=card)
    return card
