"""The Analyze page's Text tab: one text with its sentences and key words, or a whole CSV column."""

import bisect
import html
import io

import pandas as pd
import plotly.express as px
import streamlit as st

from app_support.display import confidence_words, show_table
from app_support.resources import store, text_predictor
from app_support.saving import save_once, show_alerts
from app_support.widgets import keep_media_checkbox
from emotion_core.errors import EmotionLensError
from emotion_core.face.overlay import colour_hex
from emotion_core.labels import EMOJI, EMOTIONS
from emotion_core.storage.db import User
from emotion_core.storage.history import save_text, save_text_batch
from emotion_core.text.analysis import MAX_OCCLUSIONS, TextAnalysis, analyze_text, analyze_texts
from emotion_core.viz import probability_bars, sentence_lines


def highlighted(analysis: TextAnalysis) -> str:
    """The text as HTML, each word shaded by how much it pushed its sentence's label."""
    starts = [sentence.start for sentence, _, _ in analysis.sentences]
    top = max((w.weight for w in analysis.words), default=0) or 1
    parts, cursor = [], 0
    for word in analysis.words:
        label = analysis.sentences[bisect.bisect_right(starts, word.start) - 1][1].label
        parts.append(html.escape(analysis.text[cursor:word.start]))
        strength = max(0.0, word.weight / top)
        if strength > 0.15:
            parts.append(f'<span style="background:{colour_hex(label)}{int(40 + 180 * strength):02x};'
                         f'border-radius:3px;padding:0 2px" title="{label} +{word.weight:.0%}">'
                         f"{html.escape(analysis.text[word.start:word.end])}</span>")
        else:
            parts.append(html.escape(analysis.text[word.start:word.end]))
        cursor = word.end
    parts.append(html.escape(analysis.text[cursor:]))
    return "<div style='line-height:1.9;font-size:1.05rem'>" + "".join(parts) + "</div>"


def _one_text(user: User) -> None:
    upload = st.file_uploader("…or a .txt file", type=["txt"], key="analyze_text_upload")
    typed = st.text_area("Text (English)", height=140, key="analyze_text_input",
                         placeholder="Paste a message, a review, a transcript…")
    keep = keep_media_checkbox("analyze_text_keep")
    if st.button("Analyse text", type="primary", key="analyze_text_start"):
        raw = upload.getvalue() if upload is not None else typed
        st.session_state.pop("analyze_text_result", None)
        try:
            analysis = analyze_text(raw, text_predictor(), source=upload.name if upload is not None else "typed text")
        except EmotionLensError as exc:
            st.error(str(exc))
            return
        st.session_state["analyze_text_result"] = analysis
        st.session_state["analyze_text_record"] = save_once(
            "analyze_text_saved", hash(analysis.text),
            lambda: save_text(store(), user, analysis, media=analysis.text.encode() if keep else None))
    analysis = st.session_state.get("analyze_text_result")
    if analysis is None:
        return
    show_alerts(st.session_state.get("analyze_text_record"))
    if analysis.warning:
        st.warning(analysis.warning)
    emotion, mood = st.columns(2)
    emotion.metric("Emotion", f"{EMOJI[analysis.overall.label]} {analysis.overall.label}",
                   confidence_words(analysis.overall), delta_color="off")
    mood.metric("Sentiment (VADER)", analysis.sentiment["polarity"], f"compound {analysis.sentiment['compound']:+.2f}",
                delta_color="off")
    if analysis.overall.uncertain:
        emotion.warning(f"Uncertain: {analysis.overall.uncertain}.")
    st.plotly_chart(probability_bars(analysis.overall.scores), key="analyze_text_bars")
    st.markdown("**Words that pushed the decision**")
    encoder = text_predictor().encoder
    st.caption("Occlusion: each word is removed in turn, and the stronger the shade, the more the probability of its "
               f"sentence's emotion fell without it. The model reads the first {encoder.max_length} {encoder.unit} of "
               "a sentence; words after them are left unshaded.")
    if analysis.explained_sentences < len(analysis.sentences):
        st.info(f"Words are weighed in the first {analysis.explained_sentences:,} of {len(analysis.sentences):,} "
                f"sentences only: an explanation classifies at most {MAX_OCCLUSIONS:,} word variants per text.")
    st.html(highlighted(analysis))
    table = analysis.sentence_table()
    if len(table) > 1:
        st.plotly_chart(sentence_lines(table, title="Emotions along the text"), key="analyze_text_along")
    show_table(table[["sentence", "text", "label", "confidence", "compound", "uncertain"]])


def _batch(user: User) -> None:
    upload = st.file_uploader("CSV file with a column of texts", type=["csv"], key="analyze_text_csv")
    if upload is None:
        return
    try:
        frame = pd.read_csv(io.BytesIO(upload.getvalue()), dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        st.error(f"{upload.name}: not a readable UTF-8 CSV file ({exc.__class__.__name__}).")
        return
    if frame.empty:
        st.error(f"{upload.name}: the file has no rows.")
        return
    column = st.selectbox("Column with the texts", list(frame.columns), key="analyze_text_column")
    signature = (upload.file_id, column)
    if st.button("Analyse every row", type="primary", key="analyze_text_batch_start"):
        bar = st.progress(0.0, text="Analysing…")
        results = analyze_texts(frame[column].tolist(), text_predictor(),
                                progress=lambda done: bar.progress(done, text=f"Analysing… {done:.0%}"))
        bar.empty()
        st.session_state["analyze_text_batch"] = (signature, results, save_once(
            "analyze_text_batch_saved", signature,
            lambda: save_text_batch(store(), user, results, source=upload.name, column=column)))
    stored = st.session_state.get("analyze_text_batch")
    if stored is None or stored[0] != signature:
        return
    _, results, record = stored
    show_alerts(record)
    combined = pd.concat([frame.reset_index(drop=True), results.drop(columns=["row"])], axis=1)
    done = results[results["label"] != "(skipped)"]
    st.caption(f"{len(done):,} rows analysed, {len(results) - len(done):,} skipped (empty or without words).")
    counts = done["label"].value_counts().reindex(EMOTIONS, fill_value=0).rename_axis("emotion").reset_index()
    st.plotly_chart(px.bar(counts, x="emotion", y="count", color="emotion", title="Emotions in the column",
                           color_discrete_map={e: colour_hex(e) for e in EMOTIONS}), key="analyze_text_batch_chart")
    show_table(combined)
    st.download_button("Download results (CSV)", combined.to_csv(index=False),
                       file_name=f"{upload.name.removesuffix('.csv')}-emotions.csv", mime="text/csv")


def render(user: User) -> None:
    st.caption("English only. The emotion model learnt from tweets, Reddit comments, TV dialogue and film subtitles; "
               "VADER sentiment is shown beside it. A result is marked uncertain when the text has no letters, when "
               "most of its words are unknown to the model, or when the model is unsure.")
    single, batch = st.tabs(["One text", "A CSV column"])
    with single:
        _one_text(user)
    with batch:
        _batch(user)
