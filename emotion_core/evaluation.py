"""Evaluation on labelled data: the metrics every modality reports, and the face evaluation itself.

The report has the same keys for every modality: ``n, accuracy, macro_f1, uar, weighted_f1, per_class,
confusion, ms_per_item, skipped``. UAR (unweighted average recall) is the mean of the per-class recalls, the
usual figure for imbalanced emotion corpora; weighted F1 weighs each class's F1 by its support (MELD's usual one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.config import Settings
from emotion_core.datasets import find_labelled_files
from emotion_core.errors import EmotionLensError, InvalidInputError
from emotion_core.labels import EMOTIONS
from emotion_core.media import IMAGE_TYPES, read_image
from emotion_core.progress import progress as show_progress
from emotion_core.result import EmotionResult

DETECT_MODES = ("auto", "always", "never")


def classification_report(y_true: Sequence[str], y_pred: Sequence[str], *,
                          labels: Sequence[str] = EMOTIONS) -> dict[str, Any]:
    """Accuracy, macro-F1, UAR, per-class precision/recall/F1/support and the confusion matrix.

    Macro averages run over the classes the test set contains, so a 5-class test set is not scored as if it
    had 7 classes; predictions of other classes still count as errors. ``per_class`` also lists a class that
    was predicted but is absent from the test set (support 0).

    Examples
    --------
    >>> r = classification_report(["happy", "sad", "sad"], ["happy", "sad", "happy"])
    >>> r["accuracy"], r["uar"]
    (0.6667, 0.75)
    """
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        matrix[index[t], index[p]] += 1
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    hits = np.diag(matrix)
    precision = np.divide(hits, predicted, out=np.zeros(len(labels)), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros(len(labels)), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(len(labels)),
                   where=(precision + recall) > 0)
    present = (support > 0) | (predicted > 0)
    n = int(matrix.sum())
    return {
        "n": n,
        "accuracy": round(float(hits.sum() / n), 4) if n else 0.0,
        "macro_f1": round(float(f1[support > 0].mean()), 4) if (support > 0).any() else 0.0,
        "uar": round(float(recall[support > 0].mean()), 4) if (support > 0).any() else 0.0,
        "weighted_f1": round(float((f1 * support).sum() / n), 4) if n else 0.0,
        "per_class": {
            label: {"precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
                    "f1": round(float(f1[i]), 4), "support": int(support[i])}
            for i, label in enumerate(labels) if present[i]
        },
        "confusion": {"labels": list(labels), "matrix": matrix.tolist()},
    }


def evaluate_items(items: Sequence[Any], labels: Sequence[str], predict: Callable[[Any], EmotionResult | None], *,
                   describe: Callable[[Any], str] = str, progress: bool = False,
                   none_reason: str = "no face found") -> dict[str, Any]:
    """Run ``predict`` over labelled items and build the report.

    ``predict`` returns ``None`` for an item it cannot judge (no face, no speech: ``none_reason``); such items
    and those that raise an :class:`EmotionLensError` are listed under ``skipped`` with the reason, never
    silently dropped.
    """
    y_true, y_pred, skipped, doubtful = [], [], [], []
    elapsed = 0.0
    iterator = show_progress(items, desc="evaluating") if progress else items
    for item, label in zip(iterator, labels):
        start = time.perf_counter()
        try:
            result = predict(item)
        except EmotionLensError as exc:
            skipped.append({"path": describe(item), "reason": str(exc)})
            continue
        elapsed += time.perf_counter() - start
        if result is None:
            skipped.append({"path": describe(item), "reason": none_reason})
            continue
        y_true.append(label)
        y_pred.append(result.label)
        doubtful.append(result.uncertain is not None)
    report = classification_report(y_true, y_pred)
    report["ms_per_item"] = round(elapsed * 1000 / max(1, len(y_true)), 3)
    report["skipped"] = skipped
    if any(doubtful):
        report["uncertain"] = uncertain_summary(y_true, y_pred, doubtful)
    return report


def uncertain_summary(y_true: Sequence[str], y_pred: Sequence[str], doubtful: Sequence[bool]) -> dict[str, Any]:
    """How many results were marked uncertain, and how often the marked and the unmarked ones were right.

    Examples
    --------
    >>> uncertain_summary(["sad", "sad", "happy"], ["sad", "happy", "happy"], [False, True, False])
    {'share': 0.3333, 'accuracy_uncertain': 0.0, 'accuracy_trusted': 1.0}
    """
    hit, marked = np.asarray(y_true) == np.asarray(y_pred), np.asarray(doubtful, bool)
    return {"share": round(float(marked.mean()), 4),
            "accuracy_uncertain": round(float(hit[marked].mean()), 4) if marked.any() else None,
            "accuracy_trusted": round(float(hit[~marked].mean()), 4) if (~marked).any() else None}


def evaluate_face(data_dir: str | Path, predictor, *, prefix: str | None = None, detect: str = "auto",
                  max_pixels: int = Settings.max_image_pixels, progress: bool = False,
                  corpus: str | None = None, ferplus_dir: str | Path | None = None) -> dict[str, Any]:
    """Evaluate a :class:`~emotion_core.face.predictor.FacePredictor` on a folder of labelled images.

    Parameters
    ----------
    data_dir : str or Path
        Folder with one sub-folder per label (at any depth, as in FER-2013).
    predictor : FacePredictor
    prefix : str, optional
        Only files whose name starts with it (e.g. ``PrivateTest``).
    detect : {"auto", "always", "never"}
        ``auto``: faces are looked for as the app, the API and ``analyze`` look for them
        (:func:`~emotion_core.face.search.find_faces`: the detector, then a close-up look, so tight crops and
        whole photos both work). ``always``: the detector alone, on the image as it is. ``never``: every image
        is a face crop. Images without a face are skipped with that reason; with several, the largest counts.
    corpus : str, optional
        A data set whose label folders have names of their own (``rafdb``: ``1`` ... ``7``, see
        :data:`~emotion_core.labels.DATASET_LABELS`); by default folders are named by emotion.
    ferplus_dir : str or Path, optional
        FER+'s folder: FER-2013 pictures are judged against the emotion most of FER+'s ten voters gave them
        (:func:`~emotion_core.face.ferplus.relabelled_by_majority`), not FER-2013's own label.
    """
    if detect not in DETECT_MODES:
        raise InvalidInputError(f"detect: expected one of {', '.join(DETECT_MODES)}, got {detect!r}.")
    files = find_labelled_files(data_dir, suffixes=[f".{t}" for t in IMAGE_TYPES], prefix=prefix, dataset=corpus)
    if ferplus_dir is not None:
        from emotion_core.face.ferplus import relabelled_by_majority

        files = relabelled_by_majority(files, ferplus_dir)

    def predict(path: Path) -> EmotionResult | None:
        image = read_image(path, max_pixels=max_pixels)
        if detect == "never":
            return predictor.predict_crop(image)
        faces = predictor.predict(image, close_up=detect == "auto")
        return max(faces, key=lambda r: r.box[2] * r.box[3]) if faces else None

    report = evaluate_items(files.paths, files.labels, predict, progress=progress)
    report["skipped"] = files.skipped + report["skipped"]
    report.update({"model_id": predictor.model_id, "detector": predictor.detector.name, "detect": detect,
                   "prefix": prefix, "data": str(data_dir), **({"corpus": corpus} if corpus else {}),
                   **({"labels": "FER+ majority"} if ferplus_dir is not None else {})})
    return report


def face_probabilities(data_dir: str | Path, predictor, *, prefix: str | None = None, corpus: str | None = None,
                       progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities ``(N, 7)`` of every labelled face crop (read as ``evaluate face --detect never`` reads them)
    and the indices of their labels in :data:`EMOTIONS`: the data that temperature scaling is fitted on."""
    from emotion_core.labels import label_index

    files = find_labelled_files(data_dir, suffixes=[f".{t}" for t in IMAGE_TYPES], prefix=prefix, dataset=corpus)
    paths = show_progress(files.paths, desc="scoring") if progress else files.paths
    probs = np.array([[r.scores[e] for e in EMOTIONS] for r in (predictor.predict_crop(read_image(p)) for p in paths)])
    return probs, np.array([label_index(label) for label in files.labels])


def evaluate_text(texts: Sequence[str], labels: Sequence[str], predictor, *, names: Sequence[str] | None = None,
                  skipped: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    """Evaluate a :class:`~emotion_core.text.predictor.TextPredictor` on texts with canonical labels (batched).

    Texts that :func:`~emotion_core.media.check_text` refuses are skipped with the reason; ``names`` (default
    ``row 1``, ``row 2`` ...) say which.
    """
    from emotion_core.media import check_text

    names = names or [f"row {i + 1}" for i in range(len(texts))]
    kept, kept_labels, skipped = [], [], list(skipped)
    for name, text, label in zip(names, texts, labels, strict=True):
        try:
            kept.append(check_text(text, name=name))
            kept_labels.append(label)
        except EmotionLensError as exc:
            skipped.append({"path": name, "reason": str(exc)})
    start = time.perf_counter()
    results = predictor.predict(kept)
    elapsed = time.perf_counter() - start
    report = classification_report(kept_labels, [r.label for r in results])
    report["ms_per_item"] = round(elapsed * 1000 / max(1, len(kept)), 4)
    report["neutral_share"] = neutral_share(kept_labels, [r.label for r in results])
    report["uncertain_share"] = round(sum(r.uncertain is not None for r in results) / max(1, len(results)), 4)
    report["skipped"] = skipped
    report["model_id"] = predictor.model_id
    return report


def neutral_share(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
    """The share of texts called neutral (``predicted``) beside the share that is (``true``)."""
    n = max(1, len(y_true))
    return {"predicted": round(sum(p == "neutral" for p in y_pred) / n, 4),
            "true": round(sum(t == "neutral" for t in y_true) / n, 4)}


def evaluate_speech(paths: Sequence[Path], labels: Sequence[str], predictor, *, progress: bool = False,
                    skipped: Sequence[dict[str, str]] = (), speakers: Sequence[str] | None = None,
                    calibration_recordings: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Evaluate a :class:`~emotion_core.speech.predictor.SpeechPredictor` on labelled recordings, whole files.

    Each file is decoded, split into voiced segments and classified as the Audio tab does; the file's label
    is that of the duration-weighted mean of its segments. Files without voice are skipped with that reason.

    With ``speakers`` (a speaker id per file) the predictor must be the calibrated one: each file is judged
    with a profile of the same speaker's other files in the set, all of them or ``calibration_recordings``
    drawn at random (seeded). A file never calibrates its own judgement, and no label is read for it.
    """
    from emotion_core.speech.audio import decode_audio
    from emotion_core.speech.predictor import utterance_result

    paths = list(paths)
    profile_for = None if speakers is None else _calibration_profiles(
        paths, list(speakers), recordings=calibration_recordings, seed=seed, progress=progress)

    def predict(index: int) -> EmotionResult | None:
        judge = predictor if profile_for is None else predictor.for_speaker(profile_for(index))
        segments = judge.predict(decode_audio(paths[index], name=Path(paths[index]).name))
        return utterance_result(segments, model_id=predictor.model_id,
                                confidence=getattr(predictor, "confidence", None))

    report = evaluate_items(range(len(paths)), list(labels), predict, describe=lambda i: str(paths[i]),
                            progress=progress, none_reason="no speech found")
    report["skipped"] = [*skipped, *report["skipped"]]
    report["model_id"] = predictor.model_id
    if speakers is not None:
        report["calibration"] = {"profile_from": "the same speaker's other files in the set",
                                 "recordings": calibration_recordings or "all others", "seed": seed}
    return report


def _calibration_profiles(paths: list[Path], speakers: list[str], *, recordings: int | None, seed: int,
                          progress: bool) -> Callable[[int], Any]:
    """For each file, the profile of its speaker from other files (their voiced segments, read once)."""
    from emotion_core.speech.audio import decode_audio
    from emotion_core.speech.predictor import COMPARE_FEATURES, SpeakerProfile, segment_functionals

    def functionals(path: Path):
        try:
            return segment_functionals(decode_audio(path, name=Path(path).name))
        except EmotionLensError:
            return np.zeros((0, COMPARE_FEATURES), np.float32)  # the file itself is skipped with its reason when judged

    rows = [functionals(p) for p in (show_progress(paths, desc="speaker profiles") if progress else paths)]
    rng = np.random.default_rng(seed)
    others = []
    for i, speaker in enumerate(speakers):
        same = [j for j, s in enumerate(speakers) if s == speaker and j != i]
        if recordings is not None:
            same = sorted(rng.choice(same, size=min(recordings, len(same)), replace=False).tolist())
        others.append(same)

    def profile_for(index: int):
        return SpeakerProfile.from_functionals(np.concatenate([rows[j] for j in others[index]] or
                                                              [np.zeros((0, COMPARE_FEATURES), np.float32)]))

    return profile_for
