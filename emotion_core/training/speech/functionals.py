"""The classical arm: ComParE 2016 functionals, standardised, multinomial logistic regression, with speed
perturbation; its regularisation chosen by speaker-grouped cross-validation; the speaker-calibrated variant and
the cross-corpus checks.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.evaluation import classification_report
from emotion_core.labels import EMOTIONS
from emotion_core.speech.corpora import SpeechClip
from emotion_core.training.speech.data import (
    LABEL_INDEX,
    SPEED_FACTORS,
    balanced_weights,
    data_sections,
    speed_features,
    uar,
)
from emotion_core.training.speech.measure import TestFiles, summary_figures, test_reports


@dataclass(frozen=True)
class FunctionalsConfig:
    """The classical arm's settings; all go into the model card."""

    speed_factors: tuple[float, ...] = SPEED_FACTORS  # extra copies of each training clip
    c_grid: tuple[float, ...] = (0.003, 0.01)  # inverse L2 strength, chosen by cross-validation
    folds: int = 4  # speaker-grouped folds over the train and validation speakers


@dataclass
class FunctionalsData:
    """ComParE functionals of every clip at speed 1 and at each perturbation factor, with the clips' facts."""

    clips: list[SpeechClip]
    by_speed: dict[float, np.ndarray]

    def rows(self, split: str | tuple[str, ...], corpus: str | None = None) -> np.ndarray:
        splits = (split,) if isinstance(split, str) else split
        return np.array([i for i, c in enumerate(self.clips) if c.label and c.split in splits
                         and (corpus is None or c.corpus == corpus)], dtype=int)

    def labels(self, rows: np.ndarray) -> list[str]:
        return [self.clips[i].label for i in rows]

    def speakers(self, rows: np.ndarray) -> np.ndarray:
        return np.array([f"{self.clips[i].corpus}-{self.clips[i].speaker}" for i in rows])

    def features(self, rows: np.ndarray, factor: float = 1.0, *, centred: str | None = None) -> np.ndarray:
        """Functionals of ``rows`` at one speed. ``centred="together"``: minus the mean of the same speaker's
        rows (training, where each speed of a speaker is a speaker of its own); ``"others"``: minus the mean of
        the same speaker's other rows, as a calibrated prediction sees it (never its own clip)."""
        features = self.by_speed[factor][rows]
        if centred is None:
            return features
        out = np.empty_like(features)
        speakers = self.speakers(rows)
        for speaker in np.unique(speakers):
            members = np.flatnonzero(speakers == speaker)
            total = features[members].sum(0)
            if centred == "together":
                out[members] = features[members] - total / len(members)
            else:
                out[members] = features[members] - (total - features[members]) / max(1, len(members) - 1)
        return out

    def fit(self, rows: np.ndarray, *, c: float, factors: Sequence[float], centred: bool = False):
        """Logistic regression on ``rows`` and their speed-perturbed copies; classes are label indices.

        ``centred``: each speaker's features minus that speaker's mean (the calibrated model)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        copies = (1.0, *factors)
        features = np.concatenate([self.features(rows, f, centred="together" if centred else None) for f in copies])
        labels = self.labels(rows) * len(copies)
        weights = balanced_weights(labels, [self.clips[i].corpus for i in rows] * len(copies))
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))
        return model.fit(features, [LABEL_INDEX[label] for label in labels], logisticregression__sample_weight=weights)

    def predict(self, model, rows: np.ndarray, *, centred: bool = False) -> list[str]:
        return [EMOTIONS[i] for i in model.predict(self.features(rows, centred="others" if centred else None))]


def choose_regularisation(data: FunctionalsData, config: FunctionalsConfig, *,
                          centred: bool = False) -> tuple[float, dict[str, Any]]:
    """The C with the best mean UAR over the corpora, out of fold, with folds grouped by speaker over the train
    and validation speakers (two validation speakers a corpus are too few to choose on). ``centred``: the
    calibrated model, each held-out clip centred on its speaker's other clips."""
    from sklearn.model_selection import GroupKFold

    from emotion_core.progress import progress

    rows = data.rows(("train", "validation"))
    folds = list(GroupKFold(n_splits=config.folds).split(rows, groups=data.speakers(rows)))
    scores = {}
    for c in progress(config.c_grid, desc="cross-validating C", unit="C"):
        predicted = np.empty(len(rows), dtype=object)
        for fit_part, held_out in folds:
            model = data.fit(rows[fit_part], c=c, factors=config.speed_factors, centred=centred)
            predicted[held_out] = data.predict(model, rows[held_out], centred=centred)
        truth = np.array(data.labels(rows))
        corpora = np.array([data.clips[i].corpus for i in rows])
        scores[c] = {corpus: uar(truth[corpora == corpus], predicted[corpora == corpus])
                     for corpus in ("ravdess", "emodb")}
    best = max(scores, key=lambda c: np.mean(list(scores[c].values())))
    return best, {"folds": config.folds, "grouped_by": "speaker",
                  "mean_uar_by_c": {f"{c:g}": round(float(np.mean(list(v.values()))), 4) for c, v in scores.items()},
                  "chosen_c": best, "uar_of_chosen": {k: round(v, 4) for k, v in scores[best].items()},
                  "mean_uar_of_chosen": round(float(np.mean(list(scores[best].values()))), 4)}


def export_functionals_classifier(model, path: Path) -> None:
    """ONNX: functionals ``(batch, features)`` in, label index and probabilities over the canonical labels out."""
    from skl2onnx import to_onnx
    from sklearn.pipeline import Pipeline

    if list(model.classes_) != list(range(len(EMOTIONS))):  # the predictor reads the columns in this order
        raise ValueError(f"the classifier must know all {len(EMOTIONS)} canonical labels, in order")
    sample = np.zeros((1, model.n_features_in_), np.float32)
    classifier = model[-1] if isinstance(model, Pipeline) else model  # a pipeline's, or a soft vote's own
    path.write_bytes(to_onnx(model, sample, options={id(classifier): {"zipmap": False}},
                             target_opset=17).SerializeToString())


CALIBRATION_CURVE = (5, 10, 20)  # recordings a test profile is built from, for the card's curve


def calibrated_model(clips, data: FunctionalsData, config: FunctionalsConfig, out_dir: Path,
                      tests: dict[str, TestFiles], *, started, command: str, uncalibrated: dict[str, Any]) -> None:
    """The ComParE recipe on speaker-centred features (each training speaker, at each speed, minus their own
    mean), written with its own card: the model the app uses when given recordings to calibrate on.

    Its C is chosen by the same grouped cross-validation, each held-out clip centred on its speaker's other
    clips. Test figures: profiles from each test speaker's other test files (all, then 5, 10 and 20 of them)."""
    from datetime import datetime, timezone

    from emotion_core.modelcard import write_card
    from emotion_core.speech.predictor import CALIBRATED_SPEECH_MODEL, MIN_CALIBRATION_SEGMENTS, functionals_model_input

    c, cross_validation = choose_regularisation(data, config, centred=True)
    model = data.fit(data.rows(("train", "validation")), c=c, factors=config.speed_factors, centred=True)
    model_path = out_dir / f"{CALIBRATED_SPEECH_MODEL}.onnx"
    export_functionals_classifier(model, model_path)
    model_id = f"speech-compare-lr-calibrated-ravdess-emodb-{started:%Y%m%d}"
    measure = functools.partial(test_reports, model_path, model_id, functionals_model_input, tests,
                                speaker_centred=True)
    metrics = measure()
    curve = {str(n): {name: summary_figures(r) for name, r in measure(calibration_recordings=n).items()}
             for n in CALIBRATION_CURVE}
    card = {
        "model_id": model_id,
        "task": "speech emotion",
        "modality": "speech",
        "file": f"{CALIBRATED_SPEECH_MODEL}.onnx",
        "labels": list(EMOTIONS),
        "architecture": "openSMILE ComParE 2016 functionals (6,373) minus the speaker's mean, standardised, "
                        f"multinomial logistic regression (L2, C={c:g})",
        "input": {**uncalibrated["input"], "speaker_centred": True,
                  "profile": "mean functionals of the voiced segments of other recordings of the same speaker, any "
                             f"emotion, at least {MIN_CALIBRATION_SEGMENTS} segments "
                             "(emotion_core.speech.predictor.speaker_profile); labels are never needed"},
        "inference": uncalibrated["inference"],
        **data_sections(clips),
        "training": {"command": command, "date": started.isoformat(timespec="seconds"),
                     "minutes": round((datetime.now(timezone.utc) - started).total_seconds() / 60, 1),
                     "config": asdict(config), "fitted_on": "train and validation speakers",
                     "centring": "each training speaker's functionals, at each speed, minus that speaker's mean at "
                                 "that speed (a sped-up voice is a voice of its own)",
                     "held_out_mean_uar": cross_validation["mean_uar_of_chosen"],
                     "held_out_protocol": f"mean UAR over the corpora, out of fold, {config.folds} folds grouped by "
                                          "speaker, each held-out clip centred on its speaker's other clips",
                     "cross_validation": cross_validation,
                     "sample_weights": "each corpus half the weight; classes by inverse frequency"},
        "calibration_curve": {"protocol": "test UAR when each test file's profile comes from this many other test "
                                          "files of its speaker, drawn at random (seed 0)",
                              "recordings": curve},
        "uncalibrated_model": {"model_id": uncalibrated["model_id"],
                               **{name: summary_figures(uncalibrated["metrics"][name]) for name in metrics}},
        "metrics": {**metrics,
                    "evaluation_command": "python -m emotion_core evaluate speech --corpus emodb --calibrate all "
                                          "--data ../shared/data/speech --json OUT"},
    }
    write_card(out_dir, CALIBRATED_SPEECH_MODEL, card)


def functionals_arm(clips, config: FunctionalsConfig, out_dir: Path, cache_dir: Path | None, tests, *,
                     model_id: str):
    """ComParE functionals + logistic regression: C by grouped cross-validation, a train-speaker fit for the arm
    choice, and the train+validation fit that ships."""
    from importlib.metadata import version

    from emotion_core.speech.predictor import functionals_model_input

    data = FunctionalsData(clips, speed_features(clips, "compare", (1.0, *config.speed_factors),
                                                 cache_dir / "speech_features" if cache_dir else None))
    c, cross_validation = choose_regularisation(data, config)
    on_train = data.fit(data.rows("train"), c=c, factors=config.speed_factors)
    validation_uar = {corpus: uar(data.labels(data.rows("validation", corpus)),
                                  data.predict(on_train, data.rows("validation", corpus)))
                      for corpus in ("ravdess", "emodb")}
    arm_dir = out_dir / "functionals"
    arm_dir.mkdir(parents=True, exist_ok=True)
    export_functionals_classifier(on_train, arm_dir / "train_speakers.onnx")
    train_only = test_reports(arm_dir / "train_speakers.onnx", model_id, functionals_model_input, tests)
    final = data.fit(data.rows(("train", "validation")), c=c, factors=config.speed_factors)
    model_path = arm_dir / "speech_compare_lr.onnx"
    export_functionals_classifier(final, model_path)
    metrics = test_reports(model_path, model_id, functionals_model_input, tests)
    return {
        "model_id": model_id, "model_path": model_path, "metrics": metrics, "data": data, "c": c,
        "architecture": "openSMILE ComParE 2016 functionals (6,373), standardised, multinomial logistic regression "
                        f"(L2, C={c:g})",
        "input": {"kind": "compare_functionals",
                  "features": "openSMILE ComParE 2016 functionals of each voiced segment, 16 kHz mono "
                              "(emotion_core.speech.predictor.compare_functionals); standardisation is inside the "
                              "ONNX graph",
                  "extractor": f"opensmile {version('opensmile')} (audEERING research licence: non-commercial use)"},
        "training": {"config": asdict(config), "fitted_on": "train and validation speakers",
                     "held_out_mean_uar": cross_validation["mean_uar_of_chosen"],
                     "held_out_protocol": f"mean UAR over the corpora, out of fold, {config.folds} folds grouped by "
                                          "speaker over the train and validation speakers",
                     "cross_validation": cross_validation,
                     "augmentation": f"speed perturbation: each training clip also at {list(config.speed_factors)} "
                                     "times its speed",
                     "sample_weights": "each corpus half the weight; classes by inverse frequency"},
        "report": {"model": "ComParE 2016 functionals (openSMILE) + logistic regression, scikit-learn",
                   "fitted_on": "train speakers (for the arm choice; the shipped fit adds the validation speakers)",
                   "validation_mean_uar": round(float(np.mean(list(validation_uar.values()))), 4),
                   "cross_validated_mean_uar": cross_validation["mean_uar_of_chosen"],
                   **{name: summary_figures(r) for name, r in train_only.items()},
                   "refitted_on_train_and_validation": {name: summary_figures(r) for name, r in metrics.items()}},
    }


def cross_corpus(data: FunctionalsData, c: float, config: FunctionalsConfig) -> dict[str, Any]:
    """The classical recipe trained on one corpus' train and validation speakers, tested on the other corpus'
    test speakers (whole clips)."""
    out = {}
    for source, target in (("ravdess", "emodb"), ("emodb", "ravdess")):
        model = data.fit(data.rows(("train", "validation"), source), c=c, factors=config.speed_factors)
        test = data.rows("test", target)
        report = classification_report(data.labels(test), data.predict(model, test))
        out[f"train_{source}_test_{target}"] = summary_figures(report)
    return out
