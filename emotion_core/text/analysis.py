"""A whole text analysed as the Text tab, the API and the CLI show it: overall emotion and sentiment, each
sentence, and the words that pushed the decision (occlusion: drop a word, see how much the label's probability
falls)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emotion_core.errors import EmotionLensError, InvalidInputError
from emotion_core.labels import EMOTIONS
from emotion_core.media import check_text
from emotion_core.result import EmotionResult, score_columns
from emotion_core.text.predictor import WORD, Sentence, split_sentences
from emotion_core.text.sentiment import MAX_WORDS, check_length, mean_sentiment, sentiment

# The most frequent English function words: a text of several words with none of them is likely not English.
_ENGLISH = frozenset("""a an the and or but if of to in on at for with from by about as is are was were be been am
i you he she it we they me my your his her its our their this that these those not no so very just what when
why how all do did does have has had will would can could should there here than then too""".split())
MAX_SENTENCES = 2_000
MAX_OCCLUSIONS = 500
"""Word variants classified at most to explain one text (about a sixth of a second on one core; a page of text),
so the largest text stays well inside 2 s on a busy 2-core machine; the sentences from the one that would pass
it on are not explained."""


def english_warning(text: str) -> str | None:
    """A warning when the text does not look English (the models read English only)."""
    words = WORD.findall(text.lower())
    letters = [ch for ch in text if ch.isalpha()]
    if letters and sum(ch.isascii() for ch in letters) / len(letters) < 0.5:
        return "This text is mostly in a non-Latin script; the text model reads English only."
    if len(words) >= 6 and sum(w in _ENGLISH for w in words) / len(words) < 0.08:
        return "This text does not look like English; the text model reads English only, so treat the result " \
               "with extra care."
    return None


@dataclass(frozen=True)
class WordWeight:
    """How much removing a word lowers the probability of its sentence's label (negative: it pulled away)."""

    word: str
    start: int
    end: int
    weight: float


@dataclass
class TextAnalysis:
    """``words`` weighs the words of the first ``explained_sentences`` sentences (see :data:`MAX_OCCLUSIONS`)."""

    source: str
    text: str
    overall: EmotionResult
    sentiment: dict[str, Any]
    sentences: list[tuple[Sentence, EmotionResult, dict[str, Any]]]
    words: list[WordWeight] = field(default_factory=list)
    warning: str | None = None
    explained_sentences: int = 0

    def sentence_table(self):
        import pandas as pd

        return pd.DataFrame([{"sentence": i + 1, "start": s.start, "end": s.end, "text": s.text, "label": r.label,
                              "confidence": r.confidence, "compound": v["compound"],
                              **score_columns(r.scores), "uncertain": r.uncertain or ""}
                             for i, (s, r, v) in enumerate(self.sentences)])

    def to_dict(self) -> dict[str, Any]:
        """The JSON that ``analyze --text`` prints."""
        data = {
            "source": self.source, "modality": "text", "overall": self.overall.to_dict(), "sentiment": self.sentiment,
            "sentences": [{"start": s.start, "end": s.end, "text": s.text, "result": r.to_dict(), "sentiment": v}
                          for s, r, v in self.sentences],
            "words": [{"word": w.word, "start": w.start, "end": w.end, "weight": round(w.weight, 4)}
                      for w in self.words],
            "explained_sentences": self.explained_sentences,
        }
        if self.warning:
            data["warning"] = self.warning
        return data


def _occlusions(sentence: Sentence, encoder) -> list[tuple[re.Match[str], str]]:
    """Each word of the sentence that the model reads (``encoder.read_part``), with the sentence without it.

    Words further on cannot change the model's answer, so they get no variant. Without a word, what follows moves
    into what the model reads, as it would if the word had never been written.
    """
    return [(word, sentence.text[:word.start()] + sentence.text[word.end():])
            for word in WORD.finditer(encoder.read_part(sentence.text))]


def _explain(sentences: Sequence[Sentence], results: Sequence[EmotionResult], predictor) -> list[list[WordWeight]]:
    """Word weights of the first sentences, as many as :data:`MAX_OCCLUSIONS` variants allow, in one batch."""
    planned, budget = [], MAX_OCCLUSIONS
    for sentence, result in zip(sentences, results):
        occlusions = _occlusions(sentence, predictor.encoder)
        budget -= len(occlusions)
        if budget < 0:
            break
        planned.append((sentence, result, occlusions))
    rows = iter(predictor.probabilities([variant for *_, occlusions in planned for _, variant in occlusions]))
    return [[WordWeight(word.group(), sentence.start + word.start(), sentence.start + word.end(),
                        result.confidence - float(next(rows)[EMOTIONS.index(result.label)]))
             for word, _ in occlusions]
            for sentence, result, occlusions in planned]


def overall_uncertainty(results: Sequence[EmotionResult], lengths: np.ndarray, *, confidence: float,
                        uncertain_below: float) -> str | None:
    """The whole text is uncertain when sentences holding more than half its length are (the reason is that of
    the longest of them, with a count when there are several), or when its confidence, the length-weighted mean
    of its sentences', falls below ``uncertain_below``: sure sentences that disagree make a mixed text."""
    doubtful = [i for i, r in enumerate(results) if r.uncertain is not None]
    if doubtful and lengths[doubtful].sum() > lengths.sum() / 2:
        reason = results[max(doubtful, key=lambda i: lengths[i])].uncertain
        return reason if len(results) == 1 else f"{len(doubtful)} of {len(results)} sentences uncertain, e.g. {reason}"
    if confidence < uncertain_below:
        share: Counter[str] = Counter()
        for result, length in zip(results, lengths):
            share[result.label] += length
        return (f"mixed: its sentences read {', '.join(label for label, _ in share.most_common())} "
                f"(confidence {confidence:.0%}, below {uncertain_below:.0%})")
    return None


def analyze_text(text: str | bytes, predictor, *, source: str = "text", explain: bool = True) -> TextAnalysis:
    """Emotion and sentiment of a text, overall and per sentence, with word attributions.

    The overall probabilities are the mean of the sentences' weighted by their length, so a long text is not
    judged by its first words only (the model reads the start of each sentence); so is the overall sentiment of a
    text of more than :data:`~emotion_core.text.sentiment.MAX_WORDS` words (a shorter one is read whole). Word
    attributions cover the words the model reads in each sentence, for as many sentences as
    :data:`MAX_OCCLUSIONS` allows.

    Raises
    ------
    InvalidInputError
        From :func:`emotion_core.media.check_text` and :func:`emotion_core.text.sentiment.check_length`, or with more
        than :data:`MAX_SENTENCES` sentences.
    """
    text = check_text(text, name=source)
    check_length(text, name=source)
    sentences = split_sentences(text)
    if len(sentences) > MAX_SENTENCES:
        raise InvalidInputError(f"{source}: {len(sentences):,} sentences is more than the {MAX_SENTENCES:,} "
                                "analysed at once; split the text.")
    results = predictor.predict([s.text for s in sentences])
    lengths = np.array([len(s.text) for s in sentences], dtype=float)
    probs = np.array([[r.scores[e] for e in EMOTIONS] for r in results])
    mean = (probs * lengths[:, None]).sum(0) / lengths.sum()
    overall = EmotionResult.from_probabilities(
        mean, modality="text", model_id=predictor.model_id, latency_ms=sum(r.latency_ms for r in results),
        uncertain=overall_uncertainty(results, lengths, confidence=float(mean.max()),
                                      uncertain_below=predictor.calibration.uncertain_below))
    moods = [sentiment(s.text) for s in sentences]
    mood = sentiment(text) if len(text.split()) <= MAX_WORDS else mean_sentiment(moods, lengths)
    explained = _explain(sentences, results, predictor) if explain else []
    return TextAnalysis(source=source, text=text, overall=overall, sentiment=mood,
                        sentences=list(zip(sentences, results, moods)),
                        words=[w for words in explained for w in words], warning=english_warning(text),
                        explained_sentences=len(explained))


def analyze_texts(texts: Sequence[str], predictor, *, progress: Callable[[float], None] | None = None,
                  batch: int = 512):
    """A table for many short texts (a CSV column): emotion, confidence, sentiment per row.

    Rows that cannot be analysed (empty, no words, too long) get ``label`` ``"(skipped)"`` and the reason; a
    result not to be trusted has its reason in ``uncertain_reason`` (empty otherwise).
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for start in range(0, len(texts), batch):
        chunk = [str(t) if t is not None else "" for t in texts[start:start + batch]]
        checked, reasons = [], {}
        for i, raw in enumerate(chunk):
            name = f"row {start + i + 1}"
            try:
                text = check_text(raw, name=name)
                check_length(text, name=name)
                checked.append((i, text))
            except EmotionLensError as exc:
                reasons[i] = str(exc)
        results = dict(zip((i for i, _ in checked), predictor.predict([t for _, t in checked])))
        for i, raw in enumerate(chunk):
            if i in reasons:
                rows.append({"row": start + i + 1, "label": "(skipped)", "reason": reasons[i]})
                continue
            mood = sentiment(raw)
            result = results[i]
            rows.append({"row": start + i + 1, "label": result.label, "confidence": round(result.confidence, 4),
                         "compound": mood["compound"], "polarity": mood["polarity"],
                         **score_columns({e: round(p, 4) for e, p in result.scores.items()}),
                         "uncertain_reason": result.uncertain or ""})
        if progress is not None:
            progress(min(1.0, (start + len(chunk)) / max(1, len(texts))))
    return pd.DataFrame(rows)


def analyze_text_column(frame, column: str, predictor, *, source: str = "table"):
    """The rows of a table with :func:`analyze_texts`' results for its ``column`` appended (``analyze --csv``).

    Raises
    ------
    InvalidInputError
        If the table has no such column.
    """
    import pandas as pd

    if column not in frame.columns:
        raise InvalidInputError(f"{source}: no column {column!r}; the columns are "
                                f"{', '.join(map(str, frame.columns))} (choose one with --column).")
    results = analyze_texts(frame[column].tolist(), predictor)
    return pd.concat([frame.reset_index(drop=True), results.drop(columns=["row"])], axis=1)
