"""Choose the speech arm by its LOCO mean (without losing in-corpus figures), refit it on every corpus, and write
the shipped models with their confidence pieces and cards.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.labels import EMOTIONS
from emotion_core.modelcard import write_card
from emotion_core.speech.corpora import CORPORA
from emotion_core.timing import machine_info
from emotion_core.training.speech.confidence import (
    DISTANCE_FILE,
    MIN_CONFIDENCE,
    confidence_fit,
    confidence_section,
    distance_limit,
)
from emotion_core.training.speech.data import CORPUS_TERMS, FEATURE_SETS, SPEECH_TERMS, SPEED_FACTORS, split_summary
from emotion_core.training.speech.functionals import export_functionals_classifier
from emotion_core.training.speech.loco import (
    TRAIN_SPLITS,
    Arm,
    CorpusFeatures,
    arm_architecture,
    arm_dict,
    compare_arms,
    summarise,
)
from emotion_core.training.speech.measure import test_files_of
from emotion_core.training.speech.self_calibration import self_calibrated_model, self_calibration_arm


def choose_arm(results: dict[str, dict[str, Any]], baseline_card: dict[str, Any], *,
               baseline_arm: str = "compare") -> str | None:
    """The arm to ship: the best LOCO mean UAR among the arms whose in-corpus RAVDESS and EmoDB test UAR stay
    within 2 points of ``baseline_card``'s, if it beats ``baseline_arm`` (the shipped recipe) under LOCO.

    Arms normalised per recording are not candidates: their figures need a recording of many segments (a
    speaker's clips together), so they say nothing of the single clip the in-corpus figures are about."""
    floor = {c: baseline_card["metrics"][f"{c}_test"]["uar"] - 0.02 for c in ("ravdess", "emodb")}
    eligible = [name for name, r in results.items() if r["arm"].normalisation == "none"
                and all(r["in_corpus"][c]["uar"] >= floor[c] for c in floor)]
    if not eligible:
        return None
    best = max(eligible, key=lambda n: results[n]["loco_mean_uar"])
    if baseline_arm in results and results[best]["loco_mean_uar"] <= results[baseline_arm]["loco_mean_uar"]:
        return None
    return best


def ship_loco(data_dir: Path, *, emovo_dir: Path | None, out_dir: Path, cache_dir: Path | None,
              arms: Sequence[Arm], models_dir: Path, command: str = "") -> dict[str, dict[str, Any]]:
    """Compare ``arms`` under LOCO and write into ``out_dir`` the speech model card with the comparison and the
    confidence pieces (temperature, distance model and limit). Returns the cards written, by model name.

    When an arm wins (:func:`choose_arm`) it is refitted on every corpus' non-test speakers and written too;
    otherwise the shipped model in ``models_dir`` stays, and gets the confidence pieces of its own recipe. With arms
    standardised per recording among ``arms``, the self-calibrated model is made of the best of them
    (:func:`self_calibration_arm`) and written too when it pays (:func:`self_calibrated_model`)."""
    from datetime import datetime, timezone

    from emotion_core.modelcard import load_card
    from emotion_core.speech.corpora import speech_corpus_clips
    from emotion_core.speech.predictor import CALIBRATED_SPEECH_MODEL, SELF_CALIBRATED_SPEECH_MODEL, SPEECH_MODEL

    started = datetime.now(timezone.utc)
    out_dir.mkdir(parents=True, exist_ok=True)
    baseline = load_card(models_dir, SPEECH_MODEL)
    clips = speech_corpus_clips(data_dir, emovo_dir=emovo_dir)
    results = compare_arms(clips, arms, cache_dir=cache_dir)
    winner = choose_arm(results, baseline)
    comparison = {
        "protocol": "LOCO: for each corpus, trained on the other corpora (their non-test speakers), tested on every "
                    "clip of it; in-corpus: trained on every corpus' non-test speakers, tested on each corpus' test "
                    "speakers; whole clips' voiced part, sped up or slowed down only in the arms with speed copies. "
                    "Per-recording normalisation groups all clips of a speaker as one recording (an interview-length "
                    "recording of mixed emotions).",
        "selection": "best LOCO mean UAR among the arms within 2 points of the shipped model's in-corpus RAVDESS and "
                     "EmoDB test UAR, if it beats the shipped recipe (arm 'compare')",
        "winner": winner,
        "arms": {n: {"arm": arm_dict(r["arm"]), "loco_mean_uar": r["loco_mean_uar"], "loco": r["loco"],
                     "in_corpus": r["in_corpus"]} for n, r in results.items()}}
    cards: dict[str, dict[str, Any]] = {}
    if winner is None:
        card = _confidence_for_shipped(clips, results, baseline, models_dir, out_dir, cache_dir, model=SPEECH_MODEL)
        if "compare_recording_centred" in results:
            cards[CALIBRATED_SPEECH_MODEL] = _confidence_for_shipped(
                clips, results, load_card(models_dir, CALIBRATED_SPEECH_MODEL), models_dir, out_dir, cache_dir,
                model=CALIBRATED_SPEECH_MODEL, arm="compare_recording_centred")
            write_card(out_dir, CALIBRATED_SPEECH_MODEL, cards[CALIBRATED_SPEECH_MODEL])
    else:
        card = _refit_winner(clips, results[winner], baseline, out_dir, cache_dir, started)
    if self_calibration_arm(results) and "compare" in results:
        own = self_calibrated_model(clips, results, baseline, out_dir, cache_dir, started=started, command=command)
        cards.update({SELF_CALIBRATED_SPEECH_MODEL: own} if own else {})
    card["loco"] = {**comparison, "shipped_arm": winner or "compare",
                    "corpora": results[winner or "compare"]["loco"],
                    "mean_uar": results[winner or "compare"]["loco_mean_uar"],
                    "command": command, "date": started.isoformat(timespec="seconds"), "machine": machine_info()}
    write_card(out_dir, SPEECH_MODEL, card)
    return {SPEECH_MODEL: card, **cards}


def _confidence_for_shipped(clips, results, baseline: dict[str, Any], models_dir: Path, out_dir: Path,
                            cache_dir: Path | None, *, model: str, arm: str = "compare") -> dict[str, Any]:
    """The shipped ComParE model ``model`` kept, with a temperature fitted on its recipe's (``arm``) LOCO
    out-of-fold predictions, a distance model of its training clips, and its own figures on a corpus it never
    heard (EMOVO), where the temperature fitted without EMOVO is checked honestly. The speaker-calibrated model's
    recipe is ``compare_recording_centred``: its inputs are centred on each speaker, as it reads them."""
    from emotion_core.confidence import (
        DistanceModel,
        apply_temperature,
        expected_calibration_error,
        fit_temperature,
    )
    from emotion_core.runtime import load_onnx_session

    if baseline["input"]["kind"] != "compare_functionals" or arm not in results:
        raise RuntimeError(f"{model}'s confidence is fitted on the {arm!r} arm's LOCO predictions")
    recipe = results[arm]["arm"]
    data = CorpusFeatures.load(clips, "compare", cache_dir)
    calibration = confidence_fit(data, results[arm])
    ood = distance_limit(data, recipe, temperature=calibration["temperature"], min_confidence=MIN_CONFIDENCE)
    trained_on = [c for c in ("ravdess", "emodb") if any(x.corpus == c for x in data.clips)]
    distance_file = DISTANCE_FILE.format(model=model)
    distances = DistanceModel.fit(data.normalised(data.rows(corpora=trained_on, splits=TRAIN_SPLITS),
                                                  recipe.normalisation))
    distances.save(out_dir / distance_file)
    card = {k: v for k, v in baseline.items() if k not in ("confidence", "loco")}
    unseen = [c for c in CORPORA if c not in trained_on and any(x.corpus == c for x in data.clips)]
    if unseen:
        session = load_onnx_session(models_dir / baseline["file"])
        rows = data.rows(corpora=unseen, splits=("train", "validation", "test"))
        features = data.normalised(rows, recipe.normalisation).astype(np.float32)
        (probs,) = session.run([session.get_outputs()[-1].name], {session.get_inputs()[0].name: features})
        truth = np.array([EMOTIONS.index(x) for x in data.column(rows, "label")])
        oof = results[arm]["oof"]
        seen_probs = np.concatenate([oof[c][1] for c in trained_on])
        seen_truth = np.concatenate([[EMOTIONS.index(x) for x in data.column(oof[c][0], "label")]
                                     for c in trained_on])
        honest_t = fit_temperature(seen_probs, seen_truth)
        scaled = apply_temperature(probs, calibration["temperature"])
        far = distances.distance(features) > ood["limit"]
        flagged = far | (scaled.max(1) < MIN_CONFIDENCE)
        correct = probs.argmax(1) == truth
        calibration["shipped_model_on_unheard_corpora"] = {
            "corpora": unseen, **summarise(data.column(rows, "label"), probs),
            "ece_before": round(expected_calibration_error(probs, truth), 4),
            "ece_after": round(expected_calibration_error(scaled, truth), 4),
            "temperature_without_them": round(honest_t, 4),
            "ece_after_temperature_without_them": round(expected_calibration_error(
                apply_temperature(probs, honest_t), truth), 4),
            "beyond_distance_limit": round(float(far.mean()), 4),
            "uncertain_share": round(float(flagged.mean()), 4),
            "accuracy_uncertain": round(float(correct[flagged].mean()), 4) if flagged.any() else None,
            "accuracy_trusted": round(float(correct[~flagged].mean()), 4) if (~flagged).any() else None,
            "protocol": "the shipped model on every clip of the corpora it was not trained on (whole clips' voiced "
                        "part); the temperature that ships was fitted on LOCO predictions that include them, so the "
                        "honest check is the temperature fitted on the other corpora's LOCO predictions only"}
    card["confidence"] = confidence_section(calibration["temperature"], ood["limit"], distance_file, calibration,
                                             ood)
    return card


def _refit_winner(clips, result: dict[str, Any], baseline: dict[str, Any], out_dir: Path, cache_dir: Path | None,
                  started) -> dict[str, Any]:
    """The winning arm refitted on every corpus' non-test speakers, exported, with its confidence pieces, and
    measured on each corpus' test speakers through the predictor."""
    from importlib.metadata import version

    from emotion_core.confidence import DistanceModel
    from emotion_core.evaluation import evaluate_speech
    from emotion_core.speech.predictor import SPEECH_MODEL, SpeechPredictor

    arm = result["arm"]
    if arm.normalisation != "none":
        raise RuntimeError(f"{arm.name} normalises per recording; the predictor cannot ship it yet")
    corpora = sorted({c.corpus for c in clips}, key=CORPORA.index)
    data = CorpusFeatures.for_arm(clips, arm, cache_dir)
    calibration = confidence_fit(data, result)
    ood = distance_limit(data, arm, temperature=calibration["temperature"], min_confidence=MIN_CONFIDENCE)
    rows = data.rows(corpora=corpora, splits=TRAIN_SPLITS)
    model = data.fit(rows, arm)
    export_functionals_classifier(model, out_dir / f"{SPEECH_MODEL}.onnx")
    distance_file = DISTANCE_FILE.format(model=SPEECH_MODEL)
    DistanceModel.fit(data.normalised(rows, arm.normalisation)).save(out_dir / distance_file)
    kind = FEATURE_SETS[arm.feature_set]
    card: dict[str, Any] = {
        "model_id": f"speech-{arm.feature_set.replace('+', '-')}-lr-{'-'.join(corpora)}-{started:%Y%m%d}",
        "task": "speech emotion", "modality": "speech", "file": f"{SPEECH_MODEL}.onnx", "labels": list(EMOTIONS),
        "architecture": arm_architecture(arm),
        "input": {"kind": kind, "features": f"openSMILE {arm.feature_set} functionals of each voiced segment, "
                  f"16 kHz mono (emotion_core.speech.predictor.{kind}); standardisation is inside the ONNX graph",
                  "extractor": f"opensmile {version('opensmile')} (audEERING research licence: non-commercial use)"},
        "inference": baseline["inference"],
        "dataset": {"sets": [*SPEECH_TERMS, *(CORPUS_TERMS[c] for c in corpora if c in CORPUS_TERMS)],
                    "label_mapping": "RAVDESS calm -> neutral; EmoDB boredom has no canonical counterpart and is "
                                     "left out; EMOVO's seven codes are the canonical seven; TESS pleasant surprise "
                                     "-> surprise; TurEV-DB calm -> neutral",
                    "split": split_summary(clips, corpora=corpora)},
        "test_speakers": {c: sorted({x.speaker for x in clips if x.corpus == c and x.split == "test"})
                          for c in corpora},
        "training": {"arm": arm_dict(arm), "fitted_on": "train and validation speakers of " + ", ".join(corpora),
                     **({"augmentation": f"speed perturbation: each training clip also at {list(SPEED_FACTORS)} "
                                         "times its speed"} if arm.speed_copies else {}),
                     "model_shipped_before": baseline["model_id"]},
        "confidence": confidence_section(calibration["temperature"], ood["limit"], distance_file, calibration, ood),
    }
    write_card(out_dir, SPEECH_MODEL, card)
    predictor = SpeechPredictor.from_dir(out_dir)
    card["metrics"] = {f"{c}_test": evaluate_speech(test_files_of(clips, c).paths, test_files_of(clips, c).labels,
                                                    predictor, skipped=test_files_of(clips, c).skipped, progress=True)
                       for c in corpora}
    card["metrics"]["evaluation_command"] = ("python -m emotion_core evaluate speech --corpus ravdess "
                                             "--data ../shared/data/speech --json OUT")
    return card
