"""Speech emotion across corpora: cached features, leave-one-corpus-out (LOCO) evaluation, the robustness arms,
and the confidence pieces (temperature, out-of-distribution distance) fitted on LOCO's out-of-fold predictions.

LOCO answers the question a user has: how well does the model do on voices, languages and rooms it never heard?
For each corpus, a model is trained on the other corpora (all their speakers but the in-corpus test speakers)
and tested on every clip of the held-out one. Beside it, the in-corpus figure: trained on every corpus' non-test
speakers, tested on each corpus' test speakers (speaker-independent, as the model card always reported).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.labels import EMOTIONS
from emotion_core.modelcard import write_card
from emotion_core.speech.corpora import CORPORA, SpeechClip
from emotion_core.timing import machine_info

FEATURE_SETS: dict[str, str] = {"compare": "compare_functionals", "egemaps": "egemaps_functionals"}


def _extractor(feature_set: str) -> Callable[[np.ndarray], np.ndarray]:
    from emotion_core.speech import predictor

    return getattr(predictor, FEATURE_SETS[feature_set])


def cached_features(clips: Sequence[SpeechClip], feature_set: str, cache_dir: Path | None, *,
                    variant: str = "clean") -> np.ndarray:
    """Functionals ``(clips, features)`` of each clip's voiced part, kept per corpus in ``cache_dir``
    (``<corpus>_<feature_set>_<variant>.npz``, keyed by path) so that every arm reads them for free.

    ``variant``: ``"clean"``, or ``"noise"`` (white noise at a random 5-20 dB SNR, seeded by the clip's path:
    the augmentation arm)."""
    from emotion_core.progress import progress
    from emotion_core.training.speech import voiced_part

    extract = _extractor(feature_set)
    known: dict[str, dict[str, np.ndarray]] = {}
    for corpus in sorted({c.corpus for c in clips}):
        path = _cache_file(cache_dir, corpus, feature_set, variant)
        known[corpus] = {}
        if path is not None and path.is_file():
            with np.load(path, allow_pickle=False) as stored:
                known[corpus] = dict(zip(stored["paths"].tolist(), stored["features"]))
    missing = [c for c in clips if str(c.path) not in known[c.corpus]]
    for clip in progress(missing, desc=f"{feature_set} functionals ({variant})", unit="clip"):
        samples = voiced_part(clip)
        if variant == "noise":
            samples = with_noise(samples, seed=str(clip.path))
        known[clip.corpus][str(clip.path)] = extract(samples)
    if missing and cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for corpus in {c.corpus for c in missing}:
            paths = sorted(known[corpus])
            np.savez(_cache_file(cache_dir, corpus, feature_set, variant), paths=np.array(paths),
                     features=np.stack([known[corpus][p] for p in paths]))
    return np.stack([known[c.corpus][str(c.path)] for c in clips])


def _cache_file(cache_dir: Path | None, corpus: str, feature_set: str, variant: str) -> Path | None:
    return cache_dir / f"{corpus}_{feature_set}_{variant}.npz" if cache_dir is not None else None


def with_noise(samples: np.ndarray, *, seed: str, snr_db: tuple[float, float] = (5.0, 20.0)) -> np.ndarray:
    """The recording with white noise added at a signal-to-noise ratio drawn from ``snr_db``."""
    import zlib

    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    power = float(np.mean(samples.astype(np.float64) ** 2)) or 1e-8
    snr = rng.uniform(*snr_db)
    noise = rng.normal(0.0, np.sqrt(power / 10 ** (snr / 10)), len(samples))
    return np.clip(samples + noise, -1.0, 1.0).astype(np.float32)


def normalise_per_recording(features: np.ndarray, groups: Sequence[str], mode: str) -> np.ndarray:
    """Each group's rows (one recording, or one speaker's recordings standing in for a long one) normalised on
    themselves (:func:`emotion_core.speech.predictor.normalise_recording`, as the self-calibrated predictor does),
    or as they are (``"none"``)."""
    from emotion_core.speech.predictor import normalise_recording

    if mode == "none":
        return normalise_recording(features, mode)
    groups = np.asarray(groups)
    out = np.empty_like(features, dtype=np.float32)
    for group in np.unique(groups):
        members = groups == group
        out[members] = normalise_recording(features[members], mode)
    return out


@dataclass(frozen=True)
class Arm:
    """One recipe compared under LOCO; every field goes into the model card's comparison."""

    name: str
    feature_set: str = "compare"
    normalisation: str = "none"  # per recording; see normalise_per_recording
    corpus_balance: bool = True  # each corpus the same total weight (else every clip the same, classes balanced)
    noise_copies: bool = False  # each training clip also with additive noise at 5-20 dB SNR
    c: float = 0.01  # inverse L2 strength of the logistic regression


ARMS: tuple[Arm, ...] = (
    Arm("compare"),
    Arm("compare_pooled", corpus_balance=False),
    Arm("compare_recording_centred", normalisation="centre"),
    Arm("compare_recording_standardised", normalisation="standardise"),
    Arm("egemaps", feature_set="egemaps", c=0.1),
    Arm("egemaps_recording_standardised", feature_set="egemaps", normalisation="standardise", c=0.1),
    Arm("compare_noise", noise_copies=True),
)


def class_weights(labels: Sequence[str], corpora: Sequence[str], *, corpus_balance: bool) -> np.ndarray:
    """Classes by inverse frequency, inside each corpus with every corpus the same total weight
    (``corpus_balance``), or over the pool; mean 1."""
    from emotion_core.training.speech import balanced_weights

    if corpus_balance:
        return balanced_weights(labels, corpora)
    return balanced_weights(labels, ["pool"] * len(labels))


@dataclass
class CorpusFeatures:
    """The labelled clips of every corpus with their (clean, and optionally noisy) functionals."""

    clips: list[SpeechClip]
    features: np.ndarray
    noisy: np.ndarray | None = None

    @classmethod
    def load(cls, clips: Sequence[SpeechClip], feature_set: str, cache_dir: Path | None, *,
             noise: bool = False) -> CorpusFeatures:
        labelled = [c for c in clips if c.label]
        return cls(labelled, cached_features(labelled, feature_set, cache_dir),
                   cached_features(labelled, feature_set, cache_dir, variant="noise") if noise else None)

    def rows(self, *, corpora: Sequence[str], splits: Sequence[str]) -> np.ndarray:
        return np.array([i for i, c in enumerate(self.clips) if c.corpus in corpora and c.split in splits], int)

    def column(self, rows: np.ndarray, name: str) -> list[str]:
        return [getattr(self.clips[i], name) for i in rows]

    def normalised(self, rows: np.ndarray, mode: str, *, noisy: bool = False) -> np.ndarray:
        """Features of ``rows`` normalised per speaker (each speaker's clips standing in for one recording)."""
        source = self.noisy if noisy else self.features
        return normalise_per_recording(source[rows], self.column(rows, "speaker_key"), mode)

    def fit(self, rows: np.ndarray, arm: Arm):
        """Standardisation and multinomial logistic regression on ``rows`` (and their noisy copies)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        copies = [self.normalised(rows, arm.normalisation)]
        if arm.noise_copies:
            copies.append(self.normalised(rows, arm.normalisation, noisy=True))
        labels = self.column(rows, "label") * len(copies)
        weights = class_weights(labels, self.column(rows, "corpus") * len(copies),
                                corpus_balance=arm.corpus_balance)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=arm.c, max_iter=3000))
        return model.fit(np.concatenate(copies), [EMOTIONS.index(label) for label in labels],
                         logisticregression__sample_weight=weights)

    def probabilities(self, model, rows: np.ndarray, arm: Arm) -> np.ndarray:
        """``(rows, 7)`` over the canonical labels."""
        return canonical_probabilities(model, self.normalised(rows, arm.normalisation))


def canonical_probabilities(model, features: np.ndarray) -> np.ndarray:
    """A fitted pipeline's probabilities ``(rows, 7)`` over the canonical labels (0 for a class it never saw)."""
    probs = np.zeros((len(features), len(EMOTIONS)))
    probs[:, model[-1].classes_] = model.predict_proba(features)
    return probs


TRAIN_SPLITS = ("train", "validation")


def _summary(truth: Sequence[str], probs: np.ndarray) -> dict[str, Any]:
    from emotion_core.evaluation import classification_report

    report = classification_report(truth, [EMOTIONS[i] for i in probs.argmax(1)])
    return {k: report[k] for k in ("n", "accuracy", "uar")}


def evaluate_arm(data: CorpusFeatures, arm: Arm) -> dict[str, Any]:
    """LOCO and in-corpus figures of one arm, with LOCO's out-of-fold probabilities for the confidence fits.

    LOCO: for each corpus, fit on the other corpora's non-test speakers, predict every clip of it. In-corpus:
    fit on every corpus' non-test speakers, predict each corpus' test speakers."""
    corpora = sorted({c.corpus for c in data.clips}, key=CORPORA.index)
    loco, oof = {}, {}
    for held_out in corpora:
        rows = data.rows(corpora=[c for c in corpora if c != held_out], splits=TRAIN_SPLITS)
        test = data.rows(corpora=[held_out], splits=("train", "validation", "test"))
        model = data.fit(rows, arm)
        oof[held_out] = (test, data.probabilities(model, test, arm))
        loco[held_out] = _summary(data.column(test, "label"), oof[held_out][1])
    model = data.fit(data.rows(corpora=corpora, splits=TRAIN_SPLITS), arm)
    in_corpus = {}
    for corpus in corpora:
        test = data.rows(corpora=[corpus], splits=("test",))
        in_corpus[corpus] = _summary(data.column(test, "label"), data.probabilities(model, test, arm))
    return {"arm": arm, "loco": loco, "loco_mean_uar": round(float(np.mean([r["uar"] for r in loco.values()])), 4),
            "in_corpus": in_corpus, "oof": oof}



def drawn_recordings(data: CorpusFeatures, rows: np.ndarray, size: int, *, draws: int, rng: np.random.Generator
                     ) -> list[np.ndarray]:
    """Stand-ins for recordings of ``size`` segments: each speaker's clips among ``rows`` drawn ``size`` at a time
    (any emotions; about ``draws`` times each clip), or all of a speaker's clips as one when ``size`` is 0.
    Speakers with fewer clips than ``size`` give none."""
    speakers = np.array(data.column(rows, "speaker_key"))
    recordings = []
    for speaker in np.unique(speakers):
        mine = rows[speakers == speaker]
        if size > len(mine):
            continue
        recordings += [mine] if size == 0 else [rng.choice(mine, size, replace=False)
                                                for _ in range(max(1, draws * len(mine) // size))]
    return recordings


def recording_size_table(data: CorpusFeatures, arm: Arm, sizes: Sequence[int], *, draws: int = 3, seed: int = 0
                         ) -> dict[str, Any]:
    """LOCO and in-corpus UAR of an arm normalised per recording when a recording holds only ``sizes`` segments:
    each judged speaker's clips are drawn into recordings of K clips (any emotions; about ``draws`` times each
    clip), every recording normalised on itself. Size 0 stands for all of a speaker's clips as one recording (the
    arm's own figures), so the table says how long a recording must be for self-calibration to pay.

    LOCO judges every speaker of the held-out corpus with a model of the other corpora; in-corpus judges each
    corpus' test speakers with a model of every corpus' non-test speakers."""
    if arm.normalisation == "none":
        raise ValueError(f"{arm.name} does not normalise per recording")
    rng = np.random.default_rng(seed)
    corpora = sorted({c.corpus for c in data.clips}, key=CORPORA.index)
    truth: dict[tuple[str, int, str], list[str]] = {}
    predicted: dict[tuple[str, int, str], list[np.ndarray]] = {}

    def judge(protocol: str, corpus: str, model, test: np.ndarray) -> None:
        for size in sizes:
            for rows in drawn_recordings(data, test, size, draws=draws, rng=rng):
                features = normalise_per_recording(data.features[rows], ["one"] * len(rows), arm.normalisation)
                truth.setdefault((protocol, size, corpus), []).extend(data.column(rows, "label"))
                predicted.setdefault((protocol, size, corpus), []).append(canonical_probabilities(model, features))

    for held_out in corpora:
        model = data.fit(data.rows(corpora=[c for c in corpora if c != held_out], splits=TRAIN_SPLITS), arm)
        judge("loco", held_out, model, data.rows(corpora=[held_out], splits=("train", "validation", "test")))
    model = data.fit(data.rows(corpora=corpora, splits=TRAIN_SPLITS), arm)
    for corpus in corpora:
        judge("in_corpus", corpus, model, data.rows(corpora=[corpus], splits=("test",)))
    table = {}
    for size in sizes:
        row: dict[str, Any] = {}
        for protocol in ("loco", "in_corpus"):
            row[protocol] = {c: _summary(truth[protocol, size, c], np.concatenate(predicted[protocol, size, c]))
                             for c in corpora if (protocol, size, c) in truth}
        row["loco_mean_uar"] = round(float(np.mean([r["uar"] for r in row["loco"].values()])), 4)
        table["all" if size == 0 else str(size)] = row
    return {"arm": arm.name, "draws": draws, "seed": seed, "sizes": table}


def smallest_paying_size(table: dict[str, Any], *, loco_to_beat: float, in_corpus_floor: dict[str, float]
                         ) -> int | None:
    """The fewest segments from which self-calibration is worth it: the smallest recording size in ``table``
    (:func:`recording_size_table`) whose LOCO mean UAR beats ``loco_to_beat`` and whose in-corpus UAR stays at or
    above ``in_corpus_floor`` on each corpus named there."""
    for size in sorted(int(k) for k in table["sizes"] if k != "all"):
        row = table["sizes"][str(size)]
        if row["loco_mean_uar"] > loco_to_beat and all(row["in_corpus"][c]["uar"] >= floor
                                                       for c, floor in in_corpus_floor.items()):
            return size
    return None


def confidence_fit(data: CorpusFeatures, result: dict[str, Any]) -> dict[str, Any]:
    """Temperature scaling fitted on the arm's LOCO out-of-fold predictions, with ECE before and after: after
    both with the temperature fitted on all held-out corpora (what ships) and, honestly, fitted on the other
    held-out corpora than the one scored (leave one corpus out again)."""
    from emotion_core.confidence import apply_temperature, expected_calibration_error, fit_temperature

    truth = {corpus: np.array([EMOTIONS.index(label) for label in data.column(rows, "label")])
             for corpus, (rows, _) in result["oof"].items()}
    probs = {corpus: p for corpus, (_, p) in result["oof"].items()}
    all_probs, all_truth = np.concatenate(list(probs.values())), np.concatenate(list(truth.values()))
    temperature = fit_temperature(all_probs, all_truth)
    per_corpus = {}
    for corpus in probs:
        others = [c for c in probs if c != corpus]
        t_other = fit_temperature(np.concatenate([probs[c] for c in others]),
                                  np.concatenate([truth[c] for c in others]))
        per_corpus[corpus] = {
            "ece_before": round(expected_calibration_error(probs[corpus], truth[corpus]), 4),
            "ece_after": round(expected_calibration_error(apply_temperature(probs[corpus], temperature),
                                                          truth[corpus]), 4),
            "temperature_from_other_corpora": round(t_other, 3),
            "ece_after_other_corpora_temperature": round(expected_calibration_error(
                apply_temperature(probs[corpus], t_other), truth[corpus]), 4)}
    return {"temperature": round(temperature, 4), "fitted_on": "LOCO out-of-fold predictions of every corpus",
            "ece_before": round(expected_calibration_error(all_probs, all_truth), 4),
            "ece_after": round(expected_calibration_error(apply_temperature(all_probs, temperature), all_truth), 4),
            "ece_after_leave_one_corpus_out": round(float(np.mean(
                [r["ece_after_other_corpora_temperature"] for r in per_corpus.values()])), 4),
            "per_corpus": per_corpus, "bins": 15}


def distance_limit(data: CorpusFeatures, arm: Arm, *, temperature: float, min_confidence: float,
                   quantile: float = 0.95) -> dict[str, Any]:
    """The out-of-distribution limit, chosen on LOCO: in each fold a :class:`DistanceModel` of the training
    rows scores the training corpora's held-out test speakers (voices like the training ones, never fitted on)
    and the held-out corpus (voices unlike them). The limit is the ``quantile`` of the first group over the
    folds, so few familiar voices are flagged; the report says how many of the unfamiliar ones it catches and
    how accurate the flagged and unflagged held-out results were."""
    from emotion_core.confidence import DistanceModel, apply_temperature

    corpora = sorted({c.corpus for c in data.clips}, key=CORPORA.index)
    familiar, unfamiliar, correct, confidence = [], [], [], []
    for held_out in corpora:
        others = [c for c in corpora if c != held_out]
        rows = data.rows(corpora=others, splits=TRAIN_SPLITS)
        model = data.fit(rows, arm)
        distances = DistanceModel.fit(data.normalised(rows, arm.normalisation))
        near = data.rows(corpora=others, splits=("test",))
        far = data.rows(corpora=[held_out], splits=("train", "validation", "test"))
        familiar.append(distances.distance(data.normalised(near, arm.normalisation)))
        unfamiliar.append(distances.distance(data.normalised(far, arm.normalisation)))
        probs = apply_temperature(data.probabilities(model, far, arm), temperature)
        correct.append(probs.argmax(1) == np.array([EMOTIONS.index(x) for x in data.column(far, "label")]))
        confidence.append(probs.max(1))
    familiar_all, unfamiliar_all = np.concatenate(familiar), np.concatenate(unfamiliar)
    correct_all, confidence_all = np.concatenate(correct), np.concatenate(confidence)
    limit = float(np.quantile(familiar_all, quantile))
    flagged = (unfamiliar_all > limit) | (confidence_all < min_confidence)

    def rate(mask: np.ndarray) -> float | None:
        return round(float(correct_all[mask].mean()), 4) if mask.any() else None

    return {"limit": round(limit, 3), "quantile_of_familiar": quantile,
            "familiar_median": round(float(np.median(familiar_all)), 3),
            "unfamiliar_median": round(float(np.median(unfamiliar_all)), 3),
            "unfamiliar_beyond_limit": round(float((unfamiliar_all > limit).mean()), 4),
            "unfamiliar_beyond_limit_by_corpus": {c: round(float((u > limit).mean()), 4)
                                                  for c, u in zip(corpora, unfamiliar)},
            "held_out_uncertain_share": round(float(flagged.mean()), 4),
            "held_out_accuracy_uncertain": rate(flagged), "held_out_accuracy_trusted": rate(~flagged)}


def loco_table(results: dict[str, dict[str, Any]]) -> str:
    """The per-corpus LOCO and in-corpus figures of each arm, as text."""
    lines = []
    for name, result in results.items():
        lines.append(f"arm {name}: LOCO mean UAR {result['loco_mean_uar']:.4f}")
        lines.append(f"  {'corpus':<8} {'LOCO n':>7} {'UAR':>7} {'acc':>7}   {'in-corpus n':>11} {'UAR':>7} {'acc':>7}")
        for corpus, loco in result["loco"].items():
            inside = result["in_corpus"][corpus]
            lines.append(f"  {corpus:<8} {loco['n']:>7} {loco['uar']:>7.4f} {loco['accuracy']:>7.4f}   "
                         f"{inside['n']:>11} {inside['uar']:>7.4f} {inside['accuracy']:>7.4f}")
    return "\n".join(lines)


def arms_by_name(spec: str, *, shipped: str = "compare") -> list[Arm]:
    """``"all"``, ``"shipped"`` (the arm named ``shipped``) or comma-separated arm names."""
    from emotion_core.errors import InvalidInputError

    known = {arm.name: arm for arm in ARMS}
    if spec == "all":
        return list(ARMS)
    names = [shipped if name == "shipped" else name for name in spec.split(",") if name]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise InvalidInputError(f"arms: unknown {', '.join(unknown) or 'empty list'}; expected 'all', 'shipped' or "
                                f"some of {', '.join(known)}.")
    return [known[name] for name in names]


def compare_arms(clips: Sequence[SpeechClip], arms: Sequence[Arm], *, cache_dir: Path | None
                 ) -> dict[str, dict[str, Any]]:
    """:func:`evaluate_arm` for each arm, reading each feature set once."""
    from emotion_core.progress import progress

    data: dict[tuple[str, bool], CorpusFeatures] = {}
    results = {}
    for arm in progress(arms, desc="LOCO arms", unit="arm"):
        key = (arm.feature_set, arm.noise_copies)
        if key not in data:
            data[key] = CorpusFeatures.load(clips, arm.feature_set, cache_dir, noise=arm.noise_copies)
        results[arm.name] = evaluate_arm(data[key], arm)
    return results


# After temperature scaling, below it a result is marked uncertain. Chosen on the 'compare' arm's LOCO predictions
# (T 4.27): at 0.3 about half of the unheard-corpus results are flagged (accuracy 25% flagged, 45% kept) and a
# quarter of the in-corpus test results (54% flagged, 81% kept); 0.4 flags 83% of the unheard and 61% in-corpus.
MIN_CONFIDENCE = 0.3
DISTANCE_FILE = "{model}.distance.npz"


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
    otherwise the shipped model in ``models_dir`` stays, and gets the confidence pieces of its own recipe. With the
    per-recording standardised arm among ``arms``, the self-calibrated model is written too when it pays
    (:func:`_self_calibrated_model`)."""
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
                    "speakers; whole clips' voiced part, no speed perturbation. Per-recording normalisation groups "
                    "all clips of a speaker as one recording (an interview-length recording of mixed emotions).",
        "selection": "best LOCO mean UAR among the arms within 2 points of the shipped model's in-corpus RAVDESS and "
                     "EmoDB test UAR, if it beats the shipped recipe (arm 'compare')",
        "winner": winner,
        "arms": {n: {"arm": _arm_dict(r["arm"]), "loco_mean_uar": r["loco_mean_uar"], "loco": r["loco"],
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
    if SELF_CALIBRATION_ARM in results and "compare" in results:
        own = _self_calibrated_model(clips, results, baseline, out_dir, cache_dir, started=started, command=command)
        cards.update({SELF_CALIBRATED_SPEECH_MODEL: own} if own else {})
    card["loco"] = {**comparison, "shipped_arm": winner or "compare",
                    "corpora": results[winner or "compare"]["loco"],
                    "mean_uar": results[winner or "compare"]["loco_mean_uar"],
                    "command": command, "date": started.isoformat(timespec="seconds"), "machine": machine_info()}
    write_card(out_dir, SPEECH_MODEL, card)
    return {SPEECH_MODEL: card, **cards}


def _confidence_section(temperature: float, limit: float, distance_file: str, calibration: dict[str, Any],
                        ood: dict[str, Any]) -> dict[str, Any]:
    return {"temperature": round(temperature, 4), "min_confidence": MIN_CONFIDENCE,
            "distance": {"file": distance_file, "limit": limit},
            "uncertain_when": f"confidence (after temperature) below {MIN_CONFIDENCE}, or the segment's distance "
                              f"from the training data above {limit}",
            "calibration": calibration, "out_of_distribution": ood}


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
            "corpora": unseen, **_summary(data.column(rows, "label"), probs),
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
    card["confidence"] = _confidence_section(calibration["temperature"], ood["limit"], distance_file, calibration,
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
    from emotion_core.training.speech import SPEECH_TERMS, _test_files, export_functionals_classifier, split_summary

    arm = result["arm"]
    if arm.normalisation != "none":
        raise RuntimeError(f"{arm.name} normalises per recording; the predictor cannot ship it yet")
    corpora = sorted({c.corpus for c in clips}, key=CORPORA.index)
    data = CorpusFeatures.load(clips, arm.feature_set, cache_dir, noise=arm.noise_copies)
    calibration = confidence_fit(data, result)
    ood = distance_limit(data, arm, temperature=calibration["temperature"], min_confidence=MIN_CONFIDENCE)
    rows = data.rows(corpora=corpora, splits=TRAIN_SPLITS)
    model = data.fit(rows, arm)
    export_functionals_classifier(model, out_dir / f"{SPEECH_MODEL}.onnx")
    distance_file = DISTANCE_FILE.format(model=SPEECH_MODEL)
    DistanceModel.fit(data.normalised(rows, arm.normalisation)).save(out_dir / distance_file)
    kind = FEATURE_SETS[arm.feature_set]
    card: dict[str, Any] = {
        "model_id": f"speech-{arm.feature_set}-lr-{'-'.join(corpora)}-{started:%Y%m%d}", "task": "speech emotion",
        "modality": "speech", "file": f"{SPEECH_MODEL}.onnx", "labels": list(EMOTIONS),
        "architecture": f"openSMILE {arm.feature_set} functionals ({model[0].n_features_in_:,}), standardised, "
                        f"multinomial logistic regression (L2, C={arm.c:g})",
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
        "training": {"arm": _arm_dict(arm), "fitted_on": "train and validation speakers of " + ", ".join(corpora),
                     "model_shipped_before": baseline["model_id"]},
        "confidence": _confidence_section(calibration["temperature"], ood["limit"], distance_file, calibration, ood),
    }
    write_card(out_dir, SPEECH_MODEL, card)
    predictor = SpeechPredictor.from_dir(out_dir)
    card["metrics"] = {f"{c}_test": evaluate_speech(_test_files(clips, c).paths, _test_files(clips, c).labels,
                                                    predictor, skipped=_test_files(clips, c).skipped, progress=True)
                       for c in corpora}
    card["metrics"]["evaluation_command"] = ("python -m emotion_core evaluate speech --corpus ravdess "
                                             "--data ../shared/data/speech --json OUT")
    return card


SELF_CALIBRATION_ARM = "compare_recording_standardised"
RECORDING_SIZES = (5, 10, 20, 40)  # segments a self-calibrating recording holds, for the card's table
SELF_CALIBRATION_C = (0.0003, 0.001, 0.003, 0.01)


def choose_self_calibration(data: CorpusFeatures, arm: Arm, *, loco_to_beat: float, in_corpus_floor: dict[str, float],
                            c_grid: Sequence[float] = SELF_CALIBRATION_C, sizes: Sequence[int] = RECORDING_SIZES
                            ) -> tuple[Arm, int, dict[float, dict[str, Any]]] | None:
    """The regularisation and the fewest segments of the self-calibrated model, chosen on LOCO (the issue's
    selection criterion, so its LOCO figures are selection scores, not blind tests): the smallest recording size
    that pays (:func:`smallest_paying_size`) for any C of ``c_grid``, and among the C that pay there, the one with
    the best LOCO mean UAR there. Returns the arm with that C, the size, and every C's recording-size table;
    ``None`` when no C pays at any size."""
    from dataclasses import replace

    tables = {c: recording_size_table(data, replace(arm, c=c), [*sizes, 0]) for c in c_grid}
    paying = {c: smallest_paying_size(t, loco_to_beat=loco_to_beat, in_corpus_floor=in_corpus_floor)
              for c, t in tables.items()}
    if all(size is None for size in paying.values()):
        return None
    least = min(size for size in paying.values() if size is not None)
    best = max((c for c, size in paying.items() if size == least),
               key=lambda c: tables[c]["sizes"][str(least)]["loco_mean_uar"])
    return replace(arm, c=best), least, tables


def _self_calibrated_model(clips, results: dict[str, dict[str, Any]], baseline: dict[str, Any], out_dir: Path,
                           cache_dir: Path | None, *, started, command: str) -> dict[str, Any] | None:
    """The per-recording standardised arm refitted on every corpus' non-test speakers and written with its card:
    the model a recording long enough to calibrate on itself is judged by.

    Its ``min_segments`` is the smallest recording size that pays (:func:`smallest_paying_size`): LOCO mean UAR
    above the single-clip recipe's, in-corpus UAR within 2 points of the shipped model's (RAVDESS, EmoDB) or of
    the single-clip recipe's (other corpora). ``None`` (nothing written) when no size pays."""
    from importlib.metadata import version

    from emotion_core.confidence import DistanceModel
    from emotion_core.evaluation import classification_report
    from emotion_core.runtime import load_onnx_session
    from emotion_core.speech.predictor import SELF_CALIBRATED_SPEECH_MODEL
    from emotion_core.training.speech import SPEECH_TERMS, export_functionals_classifier, split_summary

    single = results["compare"]
    corpora = sorted({c.corpus for c in clips}, key=CORPORA.index)
    data = CorpusFeatures.load(clips, results[SELF_CALIBRATION_ARM]["arm"].feature_set, cache_dir)
    floor = {c: round(single["in_corpus"][c]["uar"] - 0.02, 4) for c in corpora}
    floor.update({c: round(baseline["metrics"][f"{c}_test"]["uar"] - 0.02, 4) for c in ("ravdess", "emodb")})
    choice = choose_self_calibration(data, results[SELF_CALIBRATION_ARM]["arm"], loco_to_beat=single["loco_mean_uar"],
                                     in_corpus_floor=floor)
    if choice is None:
        return None
    arm, min_segments, tables = choice
    table = tables[arm.c]
    result = evaluate_arm(data, arm)
    calibration = confidence_fit(data, result)
    ood = distance_limit(data, arm, temperature=calibration["temperature"], min_confidence=MIN_CONFIDENCE)
    rows = data.rows(corpora=corpora, splits=TRAIN_SPLITS)
    model_path = out_dir / f"{SELF_CALIBRATED_SPEECH_MODEL}.onnx"
    export_functionals_classifier(data.fit(rows, arm), model_path)
    distance_file = DISTANCE_FILE.format(model=SELF_CALIBRATED_SPEECH_MODEL)
    DistanceModel.fit(data.normalised(rows, arm.normalisation)).save(out_dir / distance_file)
    session, rng = load_onnx_session(model_path), np.random.default_rng(0)
    metrics: dict[str, Any] = {}
    for corpus in corpora:  # the exported model, on the test speakers' clips drawn into recordings
        truth, predicted = [], []
        for recording in drawn_recordings(data, data.rows(corpora=[corpus], splits=("test",)), min_segments,
                                          draws=3, rng=rng):
            features = normalise_per_recording(data.features[recording], ["one"] * len(recording), arm.normalisation)
            (probs,) = session.run([session.get_outputs()[-1].name], {session.get_inputs()[0].name: features})
            truth += data.column(recording, "label")
            predicted += [EMOTIONS[i] for i in probs.argmax(1)]
        metrics[f"{corpus}_test"] = classification_report(truth, predicted)
    card: dict[str, Any] = {
        "model_id": f"speech-compare-lr-self-calibrated-c{arm.c:g}-{'-'.join(corpora)}-{started:%Y%m%d}",
        "task": "speech emotion", "modality": "speech", "file": model_path.name, "labels": list(EMOTIONS),
        "architecture": "openSMILE ComParE 2016 functionals (6,373) standardised on the recording's own voiced "
                        f"segments, then on the training data; multinomial logistic regression (L2, C={arm.c:g})",
        "input": {"kind": FEATURE_SETS[arm.feature_set], "features": baseline["input"]["features"],
                  "extractor": f"opensmile {version('opensmile')} (audEERING research licence: non-commercial use)",
                  "recording_standardised": True, "min_segments": min_segments,
                  "normalisation": "each voiced segment's functionals minus the mean of the recording's voiced "
                                   "segments, divided by their spread "
                                   "(emotion_core.speech.predictor.normalise_recording): no labels, no enrolment"},
        "inference": {**baseline["inference"],
                      "when": f"a recording with at least {min_segments} voiced segments; a shorter one is judged "
                              f"clip by clip by {baseline['file']}"},
        "dataset": {"sets": [*SPEECH_TERMS, *(CORPUS_TERMS[c] for c in corpora if c in CORPUS_TERMS)],
                    "label_mapping": "RAVDESS calm -> neutral; EmoDB boredom has no canonical counterpart and is "
                                     "left out; EMOVO's seven codes are the canonical seven",
                    "split": split_summary(clips, corpora=corpora)},
        "test_speakers": {c: sorted({x.speaker for x in clips if x.corpus == c and x.split == "test"})
                          for c in corpora},
        "training": {"command": command, "date": started.isoformat(timespec="seconds"), "machine": machine_info(),
                     "arm": _arm_dict(arm),
                     "fitted_on": "train and validation speakers of " + ", ".join(corpora),
                     "standardisation_groups": "each training speaker's clips, standing in for one recording of "
                                               "mixed emotions",
                     "min_segments_rule": "the smallest recording size whose LOCO mean UAR beats the single-clip "
                                          "recipe's and whose in-corpus UAR stays at or above the floors, over "
                                          "the C grid; among the C that pay there, the best LOCO mean UAR there",
                     "c_sweep": {str(c): {"min_segments": smallest_paying_size(
                         t, loco_to_beat=single["loco_mean_uar"], in_corpus_floor=floor),
                         **{size: {"loco_mean_uar": row["loco_mean_uar"],
                                   "in_corpus": {k: r["uar"] for k, r in row["in_corpus"].items()}}
                            for size, row in t["sizes"].items()}} for c, t in tables.items()},
                     "in_corpus_floor": floor, "single_clip_recipe": {
                         "arm": "compare", "loco_mean_uar": single["loco_mean_uar"],
                         "loco": single["loco"], "in_corpus": single["in_corpus"]}},
        "recording_sizes": {**table, "protocol": "each judged speaker's clips drawn into recordings of this many "
                            "clips (any emotions, about 3 draws of each clip, seed 0), each recording standardised on "
                            "itself; 'all': every clip of a speaker as one recording. LOCO: trained on the other "
                            "corpora; in-corpus: trained on every corpus' non-test speakers, tested on the test "
                            "speakers"},
        "loco": {"corpora": result["loco"], "mean_uar": result["loco_mean_uar"],
                 "at_min_segments": table["sizes"][str(min_segments)]["loco"],
                 "mean_uar_at_min_segments": table["sizes"][str(min_segments)]["loco_mean_uar"]},
        "confidence": _confidence_section(calibration["temperature"], ood["limit"], distance_file, calibration, ood),
        "metrics": {**metrics, "protocol": f"in-corpus test speakers, their clips drawn into recordings of "
                                           f"{min_segments} (seed 0), through the exported model",
                    "evaluation_command": command},
    }
    write_card(out_dir, SELF_CALIBRATED_SPEECH_MODEL, card)
    return card


EMOVO_TERMS = {"name": "EMOVO", "citation": "Costantini et al., EMOVO Corpus: an Italian Emotional Speech Database, "
               "LREC 2014", "terms": "research use", "source": "GitHub fp1acm8/SER, data/EMOVO"}
# The corpora in folders of their own, beside the shared RAVDESS and EmoDB (SPEECH_TERMS).
CORPUS_TERMS = {
    "emovo": EMOVO_TERMS,
    "tess": {"name": "TESS", "citation": "Dupuis & Pichora-Fuller, Toronto emotional speech set, University of "
             "Toronto 2010, doi:10.5683/SP2/E8H2MF", "terms": "CC BY-NC-ND 4.0 (non-commercial)",
             "source": "GitHub deepxzy/Toronto-emotional-speech-set, datasets/"},
    "turevdb": {"name": "TurEV-DB", "citation": "Canpolat, Ormanoglu & Zeyrek, Turkish Emotion Voice Database "
                "(TurEV-DB), SLTU-CCURL 2020", "terms": "CC BY-NC-ND 4.0 (non-commercial)",
                "source": "GitHub Xeonen/TurEV-DB, Sound Source/"},
    "eyase": {"name": "EYASE", "citation": "Abdel-Hamid, Egyptian Arabic semi-natural emotion speech database, "
              "Speech Communication 2020", "terms": "research use; no licence stated in the copy",
              "source": "GitHub amine-dubs/arabic-emotion-recognition-V2, Data/EYASE"},
}


def _arm_dict(arm: Arm) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(arm)
