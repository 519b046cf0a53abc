"""Text emotion: tokenisation, sentence splitting, and the shipped classifier on ONNX Runtime.

The classifier reads either word ids from the simple tokeniser below (lower-case words, numbers and punctuation;
the BiLSTM) or WordPiece ids from the tokenizer file shipped beside it (:class:`Subwords`; the MiniLM
student), the same ones its training used, and knows English only. Its probabilities pass through the card's
:class:`TextCalibration` (a temperature and an offset on neutral, chosen on validation splits across corpora), and
a result is marked ``uncertain`` when the text has no letters, when most of its words are unknown to the model,
or when the calibrated confidence is low.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emotion_core.confidence import apply_temperature
from emotion_core.errors import InvalidInputError, ModelUnavailableError
from emotion_core.labels import EMOTIONS
from emotion_core.modelcard import load_card
from emotion_core.result import EmotionResult

TEXT_MODEL = "text_emotion"
"""File stem of the shipped text model in ``models/``."""

WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
"""A word or number, with an apostrophe ending (``can't``): the tokens that are not punctuation or emoji."""
_TOKEN = re.compile(rf"{WORD.pattern}|[^\w\s]")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
UNKNOWN = 1  # id 0 pads


def tokenize(text: str) -> list[str]:
    """Lower-case words and numbers (with apostrophe endings), and single punctuation marks or emoji.

    Examples
    --------
    >>> tokenize("I can't believe it!! 😀")
    ['i', "can't", 'believe', 'it', '!', '!', '😀']
    """
    return _TOKEN.findall(text.lower())


def leading_tokens(text: str, count: int) -> str:
    """The start of ``text`` up to the end of its ``count``-th token (all of it when it has fewer): all that a
    model reading ``count`` tokens sees.

    Examples
    --------
    >>> leading_tokens("I can't believe it!! Really.", 3)
    "I can't believe"
    """
    matches = list(itertools.islice(_TOKEN.finditer(text), count))
    return text[: matches[-1].end()] if len(matches) == count else text


@dataclass(frozen=True)
class Sentence:
    """A sentence and its character span in the original text."""

    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    """Split at sentence-ending punctuation followed by space, and at line breaks."""
    sentences, start = [], 0
    for match in [*_SENTENCE_END.finditer(text), None]:
        end = match.start() if match else len(text)
        piece = text[start:end]
        if piece.strip():
            offset = len(piece) - len(piece.lstrip())
            sentences.append(Sentence(start + offset, start + len(piece.rstrip()), piece.strip()))
        start = match.end() if match else len(text)
    return sentences


class Vocabulary:
    """Word ids for the classifier: 0 pads, 1 stands for any word outside the vocabulary."""

    def __init__(self, words: Sequence[str], *, max_length: int):
        self.words = list(words)
        self.max_length = max_length
        self._ids = {word: i + 2 for i, word in enumerate(self.words)}

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelUnavailableError(f"vocabulary {path} cannot be read: {exc}") from None
        return cls(data["words"], max_length=data["max_length"])

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"max_length": self.max_length, "words": self.words}), encoding="utf-8")

    def unknown_words(self, text: str) -> tuple[int, int]:
        """``(unknown, all)``: how many of the text's words (tokens with a letter) the vocabulary lacks."""
        words = [token for token in tokenize(text) if any(ch.isalpha() for ch in token)]
        return sum(token not in self._ids for token in words), len(words)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, max_length)`` int64 ids, truncated or padded at the end."""
        ids = np.zeros((len(texts), self.max_length), dtype=np.int64)
        for row, text in enumerate(texts):
            tokens = [self._ids.get(token, UNKNOWN) for token in tokenize(text)[: self.max_length]]
            ids[row, : len(tokens)] = tokens
        return ids

    unit = "words and marks"
    """What the model counts when it reads at most :attr:`max_length` of them."""

    def feed(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The BiLSTM's input for ``texts``."""
        return {"word_ids": self.encode(texts)}

    def read_part(self, text: str) -> str:
        """The start of ``text`` that the model reads."""
        return leading_tokens(text, self.max_length)


class Subwords:
    """WordPiece ids for the transformer, from the tokenizer file it was trained with (offline; the ``tokenizers``
    package), each batch padded to its longest text."""

    unit = "word pieces"

    def __init__(self, tokenizer, *, max_length: int):
        self.max_length = max_length
        self.tokenizer = tokenizer
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    @classmethod
    def load(cls, path: str | Path, *, max_length: int) -> Subwords:
        from tokenizers import Tokenizer

        try:
            return cls(Tokenizer.from_file(str(path)), max_length=max_length)
        except Exception as exc:  # the tokenizers package raises its own exception type for unreadable files
            raise ModelUnavailableError(f"tokenizer {path} cannot be read: {exc}") from None

    def feed(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The transformer's input for ``texts``: ``input_ids`` and ``attention_mask``."""
        encodings = self.tokenizer.encode_batch(list(texts))
        return {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64)}

    def read_part(self, text: str) -> str:
        """The start of ``text`` that the model reads: up to the last word piece that fits."""
        encoding = self.tokenizer.encode(text)
        ends = [end for (_, end), special in zip(encoding.offsets, encoding.special_tokens_mask) if not special]
        return text[: max(ends, default=0)] if len(encoding.ids) >= self.max_length else text


@dataclass(frozen=True)
class TextCalibration:
    """How the model's probabilities become the ones shown, and when a result is marked uncertain.

    Parameters
    ----------
    temperature : float, default=1.0
        Log-probabilities are divided by it (above 1 softens over-confident outputs).
    neutral_offset : float, default=0.0
        Added to neutral's log-probability after the temperature: how readily a text is called neutral.
    uncertain_below : float, default=0.0
        A calibrated confidence below it marks the result uncertain.
    max_unknown_share : float, default=0.5
        A text with more than this share of its words outside the vocabulary is marked uncertain.
    emotion_offsets : dict, optional
        Added to the other emotions' log-probabilities after the temperature ({emotion: offset}; absent: 0):
        class priors, so that the corpora' mix in training does not decide how readily each emotion is called.
    """

    temperature: float = 1.0
    neutral_offset: float = 0.0
    uncertain_below: float = 0.0
    max_unknown_share: float = 0.5
    emotion_offsets: dict[str, float] = field(default_factory=dict)

    def __post_init__(self):
        unknown = set(self.emotion_offsets) - (set(EMOTIONS) - {"neutral"})
        if unknown:
            raise InvalidInputError(f"emotion_offsets: expected emotions other than neutral (its offset is "
                                    f"neutral_offset), got {sorted(unknown)}.")

    @classmethod
    def from_card(cls, card: dict[str, Any]) -> TextCalibration:
        """The card's ``calibration`` (none: the model's own probabilities, and only the input checks)."""
        stored = card.get("calibration", {})
        scalars = {name: float(stored[name]) for name in cls.__dataclass_fields__
                   if name in stored and name != "emotion_offsets"}
        offsets = {emotion: float(offset) for emotion, offset in stored.get("emotion_offsets", {}).items()}
        return cls(**scalars, emotion_offsets=offsets)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def offsets(self) -> np.ndarray:
        """The offset on each emotion's log-probability, in :data:`EMOTIONS` order."""
        return np.array([self.neutral_offset if emotion == "neutral" else self.emotion_offsets.get(emotion, 0.0)
                         for emotion in EMOTIONS])

    def apply(self, probabilities: np.ndarray) -> np.ndarray:
        """``(N, 7)`` probabilities rescaled by the temperature and shifted by the offsets."""
        return apply_temperature(probabilities, self.temperature, self.offsets())

    def uncertain(self, text: str, confidence: float, vocabulary: Vocabulary) -> str | None:
        """Why a result should not be trusted (no letters, mostly unknown words, low confidence), or None."""
        if not any(ch.isalpha() for ch in text):
            return "no letters: nothing for the text model to read"
        unknown, words = vocabulary.unknown_words(text)
        if unknown > self.max_unknown_share * words:
            return f"{unknown} of {words} words are unknown to the text model (it reads English only)"
        if confidence < self.uncertain_below:
            return f"low confidence ({confidence:.0%}, below {self.uncertain_below:.0%})"
        return None


def _check_texts(texts: Sequence[str]) -> None:
    if isinstance(texts, str):
        raise InvalidInputError("texts: expected a list of strings, got one string.")
    if not hasattr(texts, "__len__"):  # a list, a tuple, a NumPy array or a pandas Series of texts
        raise InvalidInputError(f"texts: expected a list of strings, got {type(texts).__name__}.")
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise InvalidInputError(f"texts: expected strings, got {type(text).__name__} at position {position}.")


class TextPredictor:
    """Emotion of short English texts (a sentence, a tweet, a comment).

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        The encoder's input (:meth:`Vocabulary.feed`, :meth:`Subwords.feed`) to probabilities ``(N, 7)``.
    vocabulary : Vocabulary
        The words seen in training: the model's input unless ``subwords`` is given, and what tells which words
        are unknown to the model.
    model_id : str
    batch_size : int
        Texts per ONNX Runtime call. ONNX Runtime keeps the memory of the largest call it has run (0.66 MB a text:
        170 MB at 256), and larger calls are no faster.
    calibration : TextCalibration, optional
        Applied to every probability this predictor gives (the card's; default: none).
    subwords : Subwords, optional
        The transformer's tokenizer (its input instead of the vocabulary's word ids).
    """

    modality = "text"
    labels = EMOTIONS

    def __init__(self, *, session, vocabulary: Vocabulary, model_id: str, batch_size: int = 64,
                 calibration: TextCalibration | None = None, subwords: Subwords | None = None):
        self.session = session
        self.vocabulary = vocabulary
        self.model_id = model_id
        self.batch_size = batch_size
        self.calibration = calibration or TextCalibration()
        self.subwords = subwords

    @property
    def encoder(self) -> Vocabulary | Subwords:
        """What turns texts into the model's input: the transformer's word pieces, or the vocabulary's word ids."""
        return self.subwords if self.subwords is not None else self.vocabulary

    @classmethod
    def from_dir(cls, models_dir: str | Path, *, model: str = TEXT_MODEL) -> TextPredictor:
        """The model and vocabulary in ``models_dir``, named and calibrated by its card."""
        card = load_card(models_dir, model)
        predictor = cls.from_dir_files(models_dir, model=model, model_id=card["model_id"])
        predictor.calibration = TextCalibration.from_card(card)
        return predictor

    @classmethod
    def from_dir_files(cls, models_dir: str | Path, *, model: str, model_id: str) -> TextPredictor:
        """The ONNX model, vocabulary and (a transformer's) tokenizer files alone (before a card exists, as in
        training; uncalibrated)."""
        from emotion_core.runtime import load_onnx_session

        folder = Path(models_dir)
        vocabulary = Vocabulary.load(folder / f"{model}.vocab.json")
        tokenizer = folder / f"{model}.tokenizer.json"
        return cls(session=load_onnx_session(folder / f"{model}.onnx"), vocabulary=vocabulary, model_id=model_id,
                   subwords=Subwords.load(tokenizer, max_length=vocabulary.max_length) if tokenizer.exists() else None)

    def raw_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, 7)`` probabilities over :data:`EMOTIONS` as the model gives them, before calibration."""
        _check_texts(texts)
        out = np.zeros((len(texts), len(EMOTIONS)), dtype=np.float32)
        order = np.argsort([len(text) for text in texts], kind="stable")  # batches of like length pad less
        for start in range(0, len(texts), self.batch_size):
            chosen = order[start:start + self.batch_size]
            out[chosen] = self.session.run(None, self.encoder.feed([texts[i] for i in chosen]))[0]
        return out / out.sum(axis=1, keepdims=True)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, 7)`` calibrated probabilities over :data:`EMOTIONS`."""
        return self.calibration.apply(self.raw_probabilities(texts))

    def predict(self, texts: Sequence[str]) -> list[EmotionResult]:
        """One result per text, marked uncertain where :meth:`TextCalibration.uncertain` says so (check texts
        first with :func:`emotion_core.media.check_text`).

        Raises
        ------
        InvalidInputError
            ``texts`` is one string, or not a sequence of strings.
        """
        start = time.perf_counter()
        probs = self.probabilities(texts)
        latency = (time.perf_counter() - start) * 1000 / max(1, len(texts))
        return [EmotionResult.from_probabilities(
                    p, modality="text", model_id=self.model_id, latency_ms=latency,
                    uncertain=self.calibration.uncertain(text, float(p.max()), self.vocabulary))
                for text, p in zip(texts, probs)]
