"""The Analyze page's Image tab: every face in a photo, boxed, labelled and explained."""

import json

import streamlit as st

from app_support.display import confidence_words
from app_support.resources import face_predictor, settings, store
from app_support.saving import save_once, show_alerts
from app_support.widgets import face_model_choice, keep_media_checkbox
from emotion_core.errors import EmotionLensError
from emotion_core.face.analysis import analyze_image
from emotion_core.face.detection import available_detectors
from emotion_core.face.overlay import left_to_right
from emotion_core.labels import EMOJI
from emotion_core.media import IMAGE_TYPES, encode_png
from emotion_core.storage.db import User
from emotion_core.storage.history import save_image
from emotion_core.viz import probability_bars

FOUND_HOW = {
    "whole image": "The face fills the photo, so the whole photo was analysed as one face.",
    "close-up": "The face fills most of the photo: it was found on a second, close-up look.",
}
"""What the page says about faces the detector did not find in the photo as it is."""


def render(user: User) -> None:
    source = st.radio("Photo from", ["Upload a file", "Camera"], horizontal=True, key="analyze_image_source")
    if source == "Upload a file":
        upload = st.file_uploader("Photo with one or more faces", type=list(IMAGE_TYPES), key="analyze_image_upload")
    else:
        upload = st.camera_input("Take a photo", key="analyze_image_camera")
    detector = st.selectbox(
        "Face detector", available_detectors(), key="analyze_image_detector",
        index=available_detectors().index(settings().photo_detector),
        help="mtcnn: finds small faces and faces cropped without surroundings. blazeface: a few times faster, "
             "misses small faces. blazeface-short: tuned for faces close to a webcam. haar: OpenCV's classic "
             "cascade, as the seed papers used.",
    )
    model = face_model_choice("analyze_image_model")
    keep = keep_media_checkbox("analyze_image_keep")

    if upload is None:
        return
    try:
        analysis = analyze_image(upload.getvalue(), face_predictor(detector, model), source=upload.name,
                                 max_pixels=settings().max_image_pixels)
    except EmotionLensError as exc:
        st.error(str(exc))
        return
    saved = save_once("analyze_image_saved", (upload.file_id, detector, model), lambda: save_image(
        store(), user, analysis, settings={"detector": detector, "face_model": model},
        media=upload.getvalue() if keep else None))
    show_alerts(saved)
    faces = analysis.faces
    picture, details = st.columns([3, 2])
    with picture:
        st.image(analysis.annotated, channels="BGR", width="stretch")
        download_png, download_json = st.columns(2)
        download_png.download_button("Download annotated image", encode_png(analysis.annotated),
                                     file_name="emotion-lens-annotated.png", mime="image/png")
        download_json.download_button("Download JSON", json.dumps(analysis.to_dict(), indent=2),
                                      file_name="emotion-lens-faces.json", mime="application/json")
    with details:
        if not faces:
            st.warning("No face found in this image. Try a photo where the face is frontal, lit and at "
                       "least about 100 pixels wide, or another detector.")
        else:
            st.success(f"{len(faces)} face{'s' if len(faces) > 1 else ''} found, left to right.")
            how = faces[0].extra.get("detection")
            if how in FOUND_HOW:
                st.info(FOUND_HOW[how])
        for number, face in enumerate(left_to_right(faces), start=1):
            st.markdown(f"**Face {number}: {EMOJI[face.label]} {face.label}**, {confidence_words(face)}")
            if face.uncertain:
                st.warning(f"Uncertain: {face.uncertain}.")
            st.plotly_chart(probability_bars(face.scores), key=f"analyze_image_bars_{number}")
