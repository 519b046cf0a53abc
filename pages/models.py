"""Models: what each shipped model is, how it was trained, and how well it did on held-out data."""

import pandas as pd
import streamlit as st

from app_support import auth
from app_support.resources import model_cards
from emotion_core.viz import confusion_heatmap, per_class_bars

auth.require("view")
st.title("📊 Models")
st.caption("Every figure below was produced by `python -m emotion_core evaluate` on data the model never "
           "trained on, and is stored in the model's card in `models/`.")

cards = [card for card in model_cards() if card.get("task") != "face detection"]
detectors = [card for card in model_cards() if card.get("task") == "face detection"]

for card in cards:
    st.header(f"{card['modality'].title()}: {card['model_id']}")
    st.markdown(f"{card['architecture']}. Trained on **{card['dataset']['name']}** "
                f"({card['dataset']['terms']}).")
    test_splits = [name for name, value in card.get("metrics", {}).items() if isinstance(value, dict)]
    if not test_splits:
        st.info("This model has not been evaluated yet.")
        continue
    split = st.selectbox("Evaluation split", test_splits, index=len(test_splits) - 1,
                         key=f"models_split_{card['name']}")
    report = card["metrics"][split]
    accuracy, macro_f1, uar, speed = st.columns(4)
    accuracy.metric("Accuracy", f"{report['accuracy']:.1%}")
    macro_f1.metric("Macro-F1", f"{report['macro_f1']:.3f}")
    uar.metric("UAR", f"{report['uar']:.1%}", help="Unweighted average recall: the mean of per-class recalls.")
    speed.metric("Time per item", f"{report['ms_per_item']:.1f} ms")
    st.caption(f"{report['n']:,} items, {len(report['skipped'])} skipped.")

    table, heatmap = st.columns([2, 3])
    with table:
        per_class = pd.DataFrame(report["per_class"]).T
        per_class["support"] = per_class["support"].astype(int)
        st.dataframe(per_class, width="stretch")
        st.plotly_chart(per_class_bars(report["per_class"]), key=f"models_f1_{card['name']}")
    with heatmap:
        confusion = report["confusion"]
        st.plotly_chart(confusion_heatmap(confusion["labels"], confusion["matrix"], title="Confusion matrix"),
                        key=f"models_confusion_{card['name']}")
    with st.expander("Training details and the full card"):
        st.json(card)

if detectors:
    st.header("Face detectors")
    st.dataframe(pd.DataFrame([{"model": d["name"], "source": d["source"], "licence": d["licence"]}
                               for d in detectors]), hide_index=True, width="stretch")
