"""Text emotion: tokenisation, sentence splitting, and the shipped classifier on ONNX Runtime.

The classifier reads word ids from the simple tokeniser below (lower-case words, numbers and punctuation), the
same one its training used. It was trained on English tweets (dair-ai emotion) and Reddit comments
(GoEmotions) and knows English only.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, max_length)`` int64 ids, truncated or padded at the end."""
        ids = np.zeros((len(texts), self.max_length), dtype=np.int64)
        for row, text in enumerate(texts):
            tokens = [self._ids.get(token, UNKNOWN) for token in tokenize(text)[: self.max_length]]
            ids[row, : len(tokens)] = tokens
        return ids


class TextPredictor:
    """Emotion of short English texts (a sentence, a tweet, a comment).

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        Word ids ``(N, L)`` to probabilities ``(N, 7)``.
    vocabulary : Vocabulary
    model_id : str
    batch_size : int
        Texts per ONNX Runtime call. ONNX Runtime keeps the memory of the largest call it has run (0.66 MB a text:
        170 MB at 256), and larger calls are no faster.
    """

    modality = "text"
    labels = EMOTIONS

    def __init__(self, *, session, vocabulary: Vocabulary, model_id: str, batch_size: int = 64):
        self.session = session
        self.vocabulary = vocabulary
        self.model_id = model_id
        self.batch_size = batch_size

    @classmethod
    def from_dir(cls, models_dir: str | Path, *, model: str = TEXT_MODEL) -> TextPredictor:
        """The model and vocabulary in ``models_dir``, named by its card."""
        return cls.from_dir_files(models_dir, model=model, model_id=load_card(models_dir, model)["model_id"])

    @classmethod
    def from_dir_files(cls, models_dir: str | Path, *, model: str, model_id: str) -> TextPredictor:
        """The ONNX model and vocabulary files alone (before a card exists, as in training)."""
        from emotion_core.runtime import load_onnx_session

        return cls(session=load_onnx_session(Path(models_dir) / f"{model}.onnx"),
                   vocabulary=Vocabulary.load(Path(models_dir) / f"{model}.vocab.json"), model_id=model_id)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, 7)`` probabilities over :data:`EMOTIONS`."""
        if isinstance(texts, str):
            raise InvalidInputError("texts: expected a list of strings, got one string.")
        out = np.zeros((len(texts), len(EMOTIONS)), dtype=np.float32)
        name = self.session.get_inputs()[0].name
        for start in range(0, len(texts), self.batch_size):
            batch = self.vocabulary.encode(texts[start:start + self.batch_size])
            out[start:start + len(batch)] = self.session.run(None, {name: batch})[0]
        return out / out.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str]) -> list[EmotionResult]:
        """One result per text (check texts first with :func:`emotion_core.media.check_text`)."""
        start = time.perf_counter()
        probs = self.probabilities(texts)
        latency = (time.perf_counter() - start) * 1000 / max(1, len(texts))
        return [EmotionResult.from_probabilities(p, modality="text", model_id=self.model_id, latency_ms=latency)
                for p in probs]
