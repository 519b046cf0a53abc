"""Small widgets several pages use."""

import streamlit as st

from app_support.resources import face_model_names
from emotion_core.accounts import MIN_PASSWORD
from emotion_core.face.predictor import FACE_MODEL


def keep_media_checkbox(key: str) -> bool:
    return st.checkbox("Keep the uploaded file with the analysis", value=False, key=key,
                       help="Off by default: only the results are stored. When on, the file is saved under a "
                            "generated name in EMOTION_LENS_HOME/media, and deleted with the analysis.")


def face_model_choice(key: str) -> str:
    """A menu of the face models present (only when there is more than one); returns the chosen file stem."""
    names = face_model_names()
    if len(names) < 2:
        return FACE_MODEL
    return st.selectbox("Face model", list(names), key=key, format_func=lambda n: f"{n} ({names[n]})",
                        help="face_expression: our CNN, best on FER-2013. face_expression_mnv2: MobileNetV2 trained "
                             "on FER-2013 and RAF-DB, best on in-the-wild photos. seed002_hybrid: seed 002's "
                             "MobileNetV2 + LBP + Random Forest, reproduced (see Models for every model's figures).")


def new_password_inputs(label: str = "Password", *, key: str | None = None) -> tuple[str, str]:
    """A new password and its repetition (keys ``{key}_password`` and ``{key}_repeated``), marked for password
    managers as a new one."""
    password = st.text_input(f"{label} ({MIN_PASSWORD} characters or more)", type="password",
                             autocomplete="new-password", key=key and f"{key}_password")
    return password, st.text_input(f"{label} again", type="password", autocomplete="new-password",
                                   key=key and f"{key}_repeated")


def passwords_match(password: str, repeated: str) -> bool:
    """Whether the two match; if not, an error says so."""
    if password != repeated:
        st.error("The two passwords differ.")
    return password == repeated
