"""Home: what Emotion Lens does, and what it must not be used for."""

import streamlit as st

from app_support import auth
from app_support.resources import model_cards
from emotion_core.permissions import allowed

user = auth.require("view")
st.title("🎭 Emotion Lens")
st.markdown(
    "Emotion Lens estimates which of seven basic emotions — **angry, disgust, fear, happy, sad, surprise, "
    "neutral** — a face shows. Every model runs on this computer: no picture leaves it, and an uploaded file "
    "is kept only if you ask for it."
)

col_analyze, col_history, col_models = st.columns(3)
with col_analyze:
    if allowed(user, "analyze"):
        st.page_link("pages/analyze.py", label="Analyze a photo or a video", icon="🔍")
        st.caption("Upload a photo or a video, or use the Live webcam page; every face is boxed, labelled and "
                   "explained.")
    else:
        st.caption("Your role (viewer) can read results but not run analyses.")
with col_history:
    st.page_link("pages/history.py", label="History and analytics", icon="🗂️")
    st.caption("Every analysis you ran or that others shared, over time.")
with col_models:
    st.page_link("pages/models.py", label="How good are the models?", icon="📊")
    st.caption("Each model's accuracy on held-out data, per class, with its confusion matrix.")

face_test = next((card["metrics"].get("PrivateTest") for card in model_cards() if card.get("modality") == "face"
                  and card.get("task") != "face detection"), None)
if face_test:
    weakest = sorted(face_test["per_class"], key=lambda label: face_test["per_class"][label]["recall"])[:2]
    accuracy = (f"The face model is right on {face_test['accuracy']:.0%} of the FER-2013 test faces it never saw, "
                f"and finds *{weakest[0]}* and *{weakest[1]}* hardest (see *Models*).")
else:
    accuracy = "The face model has not been evaluated yet (see *Models*)."

st.subheader("Read this before you rely on a result")
st.warning(
    f"- **A result is a probability, not a fact.** {accuracy}\n"
    "- **A face is not a feeling.** Expressions can be posed, hidden or culturally different; the model sees "
    "only the pixels.\n"
    "- **Make no decision about a person with it** — hiring, grading, diagnosis, policing, credit.\n"
    "- **The EU AI Act (Art. 5(1)(f)) bans emotion recognition at work and in education** except for "
    "medical or safety reasons. Check the rules where you are.\n"
    "- The training data (FER-2013) are web photos that are unbalanced in age, ethnicity and pose; "
    "accuracy differs between groups of people, and that has not been measured here."
)
