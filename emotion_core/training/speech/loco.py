"""Speech emotion across corpora: cached features, leave-one-corpus-out (LOCO) evaluation, the robustness arms,
and the confidence pieces (temperature, out-of-distribution distance) fitted on LOCO's out-of-fold predictions.

LOCO answers the question a user has: how well does the model do on voices, languages and rooms it never heard?
For each corpus, a model is trained on the other corpora (all their speakers but the in-corpus test speakers)
and tested on every clip of the held-out one. Beside it, the in-corpus figure: trained on every corpus' non-test
speakers, tested on each corpus' test speakers (speaker-independent, as the model card always reported).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.labels import EMOTIONS
from emotion_core.speech.corpora import CORPORA, SpeechClip
from emotion_core.speech.predictor import COMPARE_FEATURES
from emotion_core.training.speech.data import SPEED_FACTORS, balanced_weights, cached_features, speed_features


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
    speed_copies: bool = False  # each training clip also at each of SPEED_FACTORS (another voice's pitch and formants)
    c: float = 0.01  # inverse L2 strength of the logistic regression (of the ComParE one in a soft vote)
    # Feature set "compare+egemaps": a logistic regression on each part, their probabilities averaged with this
    # weight on the eGeMAPS one.
    egemaps_weight: float = 0.0
    egemaps_c: float = 0.1


ARMS: tuple[Arm, ...] = (
    Arm("compare"),
    Arm("compare_pooled", corpus_balance=False),
    Arm("compare_recording_centred", normalisation="centre"),
    Arm("compare_recording_standardised", normalisation="standardise"),
    Arm("egemaps", feature_set="egemaps", c=0.1),
    Arm("egemaps_recording_standardised", feature_set="egemaps", normalisation="standardise", c=0.1),
    Arm("compare_noise", noise_copies=True),
    # The single-clip recipe shipped since 2026-11-23 (speed copies; C chosen for it by speaker-grouped
    # cross-validation), and the same in a soft vote with eGeMAPS. eGeMAPS' share: speaker-grouped 4-fold
    # cross-validation over RAVDESS and EmoDB's train and validation speakers, EMOVO's in every fit (2026-12-05,
    # an exploration outside the repo): mean UAR 0.709 for ComParE alone; 0.716, 0.726, 0.731, 0.732, 0.723 at
    # 0.1 to 0.5 (RAVDESS 0.628 -> 0.647, EmoDB 0.790 -> 0.817 at 0.4); 0.693 for ComParE alone without EMOVO.
    Arm("compare_speed", speed_copies=True, c=0.003),
    Arm("compare_egemaps_speed", feature_set="compare+egemaps", speed_copies=True, c=0.003, egemaps_weight=0.4),
    # The eGeMAPS share chosen under LOCO at 20 segments a recording: 0.2, 0.3, 0.4, 0.5 gave 46.5, 47.1, 46.7, 45.8%.
    Arm("compare_egemaps_recording_standardised", feature_set="compare+egemaps", normalisation="standardise",
        egemaps_weight=0.3),
)


def class_weights(labels: Sequence[str], corpora: Sequence[str], *, corpus_balance: bool) -> np.ndarray:
    """Classes by inverse frequency, inside each corpus with every corpus the same total weight
    (``corpus_balance``), or over the pool; mean 1."""

    if corpus_balance:
        return balanced_weights(labels, corpora)
    return balanced_weights(labels, ["pool"] * len(labels))


@dataclass
class CorpusFeatures:
    """The labelled clips of every corpus with their clean functionals, and optionally those of their noisy and
    sped-up or slowed-down copies (``speeds``: by factor)."""

    clips: list[SpeechClip]
    features: np.ndarray
    noisy: np.ndarray | None = None
    speeds: dict[float, np.ndarray] | None = None

    @classmethod
    def load(cls, clips: Sequence[SpeechClip], feature_set: str, cache_dir: Path | None, *,
             noise: bool = False, speeds: bool = False) -> CorpusFeatures:
        labelled = [c for c in clips if c.label]
        return cls(labelled, cached_features(labelled, feature_set, cache_dir),
                   cached_features(labelled, feature_set, cache_dir, variant="noise") if noise else None,
                   speed_features(labelled, feature_set, SPEED_FACTORS, cache_dir) if speeds else None)

    @classmethod
    def for_arm(cls, clips: Sequence[SpeechClip], arm: Arm, cache_dir: Path | None) -> CorpusFeatures:
        """The features ``arm`` is trained on."""
        return cls.load(clips, arm.feature_set, cache_dir, noise=arm.noise_copies, speeds=arm.speed_copies)

    def rows(self, *, corpora: Sequence[str], splits: Sequence[str]) -> np.ndarray:
        return np.array([i for i, c in enumerate(self.clips) if c.corpus in corpora and c.split in splits], int)

    def column(self, rows: np.ndarray, name: str) -> list[str]:
        return [getattr(self.clips[i], name) for i in rows]

    def normalised(self, rows: np.ndarray, mode: str, *, variant: np.ndarray | None = None) -> np.ndarray:
        """Features of ``rows`` (in ``variant``, one of the copies, when given) normalised per speaker (each
        speaker's clips standing in for one recording)."""
        source = self.features if variant is None else variant
        return normalise_per_recording(source[rows], self.column(rows, "speaker_key"), mode)

    def fit(self, rows: np.ndarray, arm: Arm):
        """Standardisation and multinomial logistic regression on ``rows`` (and the copies the arm asks for), or a
        soft vote of one on each part of a joined feature set."""
        variants = [*([self.noisy] if arm.noise_copies else []), *(self.speeds.values() if arm.speed_copies else [])]
        copies = [self.normalised(rows, arm.normalisation, variant=v) for v in [None, *variants]]
        labels = self.column(rows, "label") * len(copies)
        weights = class_weights(labels, self.column(rows, "corpus") * len(copies),
                                corpus_balance=arm.corpus_balance)
        features, targets = np.concatenate(copies), [EMOTIONS.index(label) for label in labels]
        if arm.feature_set != "compare+egemaps":
            return logistic_regression(arm.c).fit(features, targets, logisticregression__sample_weight=weights)
        compare = list(range(COMPARE_FEATURES))
        egemaps = list(range(COMPARE_FEATURES, features.shape[1]))
        members = {name: logistic_regression(c, columns).fit(features, targets,
                                                             logisticregression__sample_weight=weights)
                   for name, c, columns in (("compare", arm.c, compare), ("egemaps", arm.egemaps_c, egemaps))}
        return soft_vote(members, [1 - arm.egemaps_weight, arm.egemaps_weight])

    def probabilities(self, model, rows: np.ndarray, arm: Arm) -> np.ndarray:
        """``(rows, 7)`` over the canonical labels."""
        return canonical_probabilities(model, self.normalised(rows, arm.normalisation))


def logistic_regression(c: float, columns: list[int] | None = None):
    """Standardisation and multinomial logistic regression (on ``columns`` of the input only, when given)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    chosen = [] if columns is None else [ColumnTransformer([("columns", "passthrough", columns)])]
    return make_pipeline(*chosen, StandardScaler(), LogisticRegression(C=c, max_iter=3000))


def soft_vote(members: dict[str, Any], weights: Sequence[float]):
    """Fitted classifiers as one that averages their probabilities with ``weights`` (exportable to ONNX).

    scikit-learn's ``VotingClassifier.fit`` would refit the members without their per-step sample weights, so the
    fitted members are set in place of the fit's results."""
    from sklearn.ensemble import VotingClassifier
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import Bunch

    vote = VotingClassifier(list(members.items()), voting="soft", weights=np.asarray(weights, float),
                            flatten_transform=False)
    first = next(iter(members.values()))
    vote.estimators_, vote.named_estimators_ = list(members.values()), Bunch(**members)
    vote.le_ = LabelEncoder().fit(first.classes_)
    vote.classes_ = vote.le_.classes_
    return vote


def canonical_probabilities(model, features: np.ndarray) -> np.ndarray:
    """A fitted classifier's probabilities ``(rows, 7)`` over the canonical labels (0 for a class it never saw)."""
    probs = np.zeros((len(features), len(EMOTIONS)))
    probs[:, model.classes_] = model.predict_proba(features)
    return probs


TRAIN_SPLITS = ("train", "validation")


def summarise(truth: Sequence[str], probs: np.ndarray) -> dict[str, Any]:
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
        loco[held_out] = summarise(data.column(test, "label"), oof[held_out][1])
    model = data.fit(data.rows(corpora=corpora, splits=TRAIN_SPLITS), arm)
    in_corpus = {}
    for corpus in corpora:
        test = data.rows(corpora=[corpus], splits=("test",))
        in_corpus[corpus] = summarise(data.column(test, "label"), data.probabilities(model, test, arm))
    return {"arm": arm, "loco": loco, "loco_mean_uar": round(float(np.mean([r["uar"] for r in loco.values()])), 4),
            "in_corpus": in_corpus, "oof": oof}


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

    data: dict[tuple[str, bool, bool], CorpusFeatures] = {}
    results = {}
    for arm in progress(arms, desc="LOCO arms", unit="arm"):
        key = (arm.feature_set, arm.noise_copies, arm.speed_copies)
        if key not in data:
            data[key] = CorpusFeatures.for_arm(clips, arm, cache_dir)
        results[arm.name] = evaluate_arm(data[key], arm)
    return results


FEATURE_WORDS = {"compare": "openSMILE ComParE 2016 functionals (6,373)",
                 "egemaps": "openSMILE eGeMAPS v02 functionals (88)",
                 "compare+egemaps": "openSMILE ComParE 2016 (6,373) and eGeMAPS v02 (88) functionals"}
NORMALISATION_WORDS = {"none": "standardised",
                       "centre": "centred on the recording's own voiced segments, then standardised",
                       "standardise": "standardised on the recording's own voiced segments, then on the training data"}


def arm_architecture(arm: Arm) -> str:
    """The model card's words for a model made by ``arm``."""
    if arm.feature_set == "compare+egemaps":
        classifier = (f"a multinomial logistic regression on each (L2, C={arm.c:g} and {arm.egemaps_c:g}), their "
                      f"probabilities averaged ({1 - arm.egemaps_weight:g} and {arm.egemaps_weight:g})")
    else:
        classifier = f"multinomial logistic regression (L2, C={arm.c:g})"
    return f"{FEATURE_WORDS[arm.feature_set]}, {NORMALISATION_WORDS[arm.normalisation]}; {classifier}"


def arm_dict(arm: Arm) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(arm)
