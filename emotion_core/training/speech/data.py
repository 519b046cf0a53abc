"""Speech corpora for training: every corpus' clips, their features (ComParE, eGeMAPS, MFCC; cached per corpus),
the speed and noise variants, class weights, and each corpus' source and terms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.evaluation import classification_report
from emotion_core.labels import EMOTIONS
from emotion_core.speech.corpora import SPLIT, SpeechClip, speech_corpus_clips


def corpus_clips(data_dir: str | Path, *, emovo_dir: str | Path | None = None) -> list[SpeechClip]:
    """Every RAVDESS and EmoDB clip under ``data_dir`` (``ravdess/Actor_NN/*.flac``, ``emodb/*.flac``), and
    EMOVO's when ``emovo_dir`` is given (see :mod:`emotion_core.speech.corpora`)."""
    corpora = ("ravdess", "emodb", "emovo") if emovo_dir else ("ravdess", "emodb")
    return speech_corpus_clips(data_dir, emovo_dir=emovo_dir, corpora=corpora)


def clip_features(clips: Sequence[SpeechClip], *, cache: Path | None = None) -> list[np.ndarray]:
    """MFCC features of each clip's voiced part, cached when asked."""
    from emotion_core.progress import progress
    from emotion_core.speech.predictor import mfcc_features

    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as stored:
            if list(stored["paths"]) == [str(c.path) for c in clips]:
                return np.split(stored["frames"], stored["offsets"][1:-1])
    features = [mfcc_features(voiced_part(clip)) for clip in progress(clips, desc="MFCC features", unit="clip")]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        offsets = np.cumsum([0] + [len(f) for f in features])
        np.savez(cache, paths=np.array([str(c.path) for c in clips]), frames=np.concatenate(features),
                 offsets=offsets)
    return features


def voiced_part(clip: SpeechClip) -> np.ndarray:
    """The clip's samples from its first to its last voiced segment (the corpora pad clips with silence)."""
    from emotion_core.speech.audio import SAMPLE_RATE, decode_audio
    from emotion_core.speech.predictor import HOP, voiced_segments

    samples = decode_audio(clip.path, name=clip.path.name).samples
    segments = voiced_segments(samples)
    if segments:
        samples = samples[int(segments[0].start_s * SAMPLE_RATE):int(segments[-1].end_s * SAMPLE_RATE) + HOP]
    return samples


def speed_perturbed(samples: np.ndarray, factor: float) -> np.ndarray:
    """The recording played ``factor`` times as fast: shorter, and pitch and formants scaled by ``factor``."""
    import librosa

    from emotion_core.speech.audio import SAMPLE_RATE

    if factor == 1.0:
        return samples
    return librosa.resample(samples, orig_sr=SAMPLE_RATE, target_sr=int(round(SAMPLE_RATE / factor)))


# Speed perturbation's factors. Chosen by speaker-grouped cross-validation over RAVDESS and EmoDB's train and
# validation speakers (folds of 5 RAVDESS actors and 2 EmoDB speakers; ComParE, mean UAR): none 0.692,
# (0.9, 1.1) 0.707, these six 0.716, these and (0.8, 1.2) 0.707.
SPEED_FACTORS = (0.85, 0.9, 0.95, 1.05, 1.1, 1.15)


def speed_variant(factor: float) -> str:
    """The :func:`cached_features` variant of clips played ``factor`` times as fast."""
    return "clean" if factor == 1.0 else f"speed_{factor:g}"


def speed_features(clips: Sequence[SpeechClip], feature_set: str, factors: Sequence[float],
                   cache_dir: Path | None) -> dict[float, np.ndarray]:
    """Functionals ``(clips, features)`` of each clip's voiced part at each speed factor (cached per corpus)."""
    return {factor: cached_features(clips, feature_set, cache_dir, variant=speed_variant(factor))
            for factor in factors}


def uar(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    return classification_report(y_true, y_pred)["uar"]


def split_summary(clips: Sequence[SpeechClip], *, corpora: Sequence[str] = ("ravdess", "emodb")) -> dict[str, Any]:
    """Speakers and clip counts per split and corpus, for the model card."""
    summary: dict[str, Any] = {}
    for split in ("train", "validation", "test"):
        for corpus in corpora:
            chosen = [c for c in clips if c.split == split and c.corpus == corpus]
            summary.setdefault(split, {})[corpus] = {
                "speakers": sorted({c.speaker for c in chosen}),
                "clips": sum(c.label is not None for c in chosen),
                "left_out": {raw: sum(c.raw_label == raw for c in chosen) for raw in
                             sorted({c.raw_label for c in chosen if c.label is None})},
            }
    return summary


LABEL_INDEX = {label: i for i, label in enumerate(EMOTIONS)}


def balanced_weights(labels: Sequence[str], corpora: Sequence[str]) -> np.ndarray:
    """Each corpus half the weight, and inside it classes by inverse frequency; mean 1."""
    labels, corpora = np.asarray(labels), np.asarray(corpora)
    weights = np.zeros(len(labels))
    for corpus in np.unique(corpora):
        members = corpora == corpus
        for label in np.unique(labels[members]):
            chosen = members & (labels == label)
            weights[chosen] = 1.0 / chosen.sum()
        weights[members] /= weights[members].sum()
    return weights * len(weights) / weights.sum()


SPEECH_TERMS = [
    {"name": "RAVDESS (speech)", "citation": "Livingstone & Russo, The Ryerson Audio-Visual Database of Emotional "
     "Speech and Song, PLoS ONE 2018", "terms": "CC BY-NC-SA 4.0"},
    {"name": "Berlin EmoDB", "citation": "Burkhardt et al., A Database of German Emotional Speech, Interspeech "
     "2005", "terms": "research use"},
]


def data_sections(clips: Sequence[SpeechClip]) -> dict[str, Any]:
    return {
        "dataset": {"sets": SPEECH_TERMS,
                    "label_mapping": "RAVDESS calm -> neutral (7 canonical classes); EmoDB boredom has no canonical "
                                     "counterpart and is left out (counted under skipped)",
                    "split": split_summary(clips)},
        "test_speakers": {corpus: list(SPLIT["test"][corpus]) for corpus in ("ravdess", "emodb")},
    }


FEATURE_SETS: dict[str, str] = {"compare": "compare_functionals", "egemaps": "egemaps_functionals",
                                 "compare+egemaps": "compare_egemaps_functionals"}


def _extractor(feature_set: str) -> Callable[[np.ndarray], np.ndarray]:
    from emotion_core.speech import predictor

    return getattr(predictor, FEATURE_SETS[feature_set])


def cached_features(clips: Sequence[SpeechClip], feature_set: str, cache_dir: Path | None, *,
                    variant: str = "clean") -> np.ndarray:
    """Functionals ``(clips, features)`` of each clip's voiced part, kept per corpus in ``cache_dir``
    (``<corpus>_<feature_set>_<variant>.npz``, keyed by path) so that every arm reads them for free.

    ``variant``: ``"clean"``, ``"noise"`` (white noise at a random 5-20 dB SNR, seeded by the clip's path:
    the augmentation arm) or a :func:`speed_variant`. A joined set (``"compare+egemaps"``) is its parts' columns
    side by side."""
    from emotion_core.progress import progress

    if "+" in feature_set:
        return np.concatenate([cached_features(clips, part, cache_dir, variant=variant)
                               for part in feature_set.split("+")], axis=1)
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
        elif variant.startswith("speed_"):
            samples = speed_perturbed(samples, float(variant.removeprefix("speed_")))
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
