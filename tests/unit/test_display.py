"""How figures read on the pages: labelled settings and summaries, and models in plain words."""

import pandas as pd
import pyarrow as pa

from app_support.display import NOTHING, displayed, field_value, model_in_plain_words, text_models_compared


class TestFieldValue:
    def test_units_shares_and_nothing(self):
        assert field_value("duration_s", 12.5) == "12.5 s"
        assert field_value("shares", {"sad": 0.25, "happy": 0.75}) == "happy 75%, sad 25%"
        assert field_value("image", {"width": 640, "height": 480}) == "640 × 480 px"
        assert field_value("overall", {"label": "happy", "confidence": 0.42}) == "happy (42% confident)"
        assert field_value("cancelled", False) == "no"
        assert field_value("reason", None) == field_value("notes", []) == NOTHING

    def test_lists_of_records_are_counted(self):
        assert field_value("tracks", [{"track_id": 1}, {"track_id": 2}]) == "2"
        assert field_value("labels", ["happy", "sad"]) == "happy, sad"


def test_a_model_in_plain_words():
    report = {"n": 3589, "accuracy": 0.701, "ms_per_item": 2.4,
              "per_class": {e: {"f1": f1} for e, f1 in zip("abcdefg", (0.6, 0.5, 0.4, 0.9, 0.55, 0.8, 0.7))}}
    card = {"modality": "face", "metrics": {"PublicTest": {**report, "accuracy": 0.6}, "PrivateTest": report}}
    words = model_in_plain_words(card)
    assert "3,589 photos of faces" in words and "PrivateTest" in words and "**70%**" in words
    assert "right 14% of the time" in words and "Most reliable on **d**, least on **c**" in words
    assert "In its evaluation (the computer that evaluated it) it took about 2 ms a face" in words
    measured = {**card, "metrics": {"PrivateTest": {**report, "machine": {"cpu": "AMD EPYC"}}}}
    assert "In its evaluation (AMD EPYC) it took about 2 ms a face, reading and preparing it included." in \
        model_in_plain_words(measured)
    assert model_in_plain_words({"modality": "text"}).endswith("has not been evaluated yet.")


def test_text_models_are_compared_corpus_by_corpus_with_the_teacher_second():
    card = {"model_id": "taught", "metrics": {"dair_test": {"macro_f1": 0.9}, "meld_test": {"macro_f1": 0.4}},
            "training": {"teacher": {"test": {"dair_test": {"macro_f1": 0.89}, "meld_test": {"macro_f1": 0.41}}}},
            "comparison": {"arms": {"tfidf": {"dair_test": {}}}, "note": "text",
                           "pair": {"model_id": "pair", "test": {"dair": {"macro_f1": 0.91}}, "decision": "replaced"}}}
    assert text_models_compared(card) == [
        {"model": "taught (shipped)", "dair": 0.9, "meld": 0.4},
        {"model": "its teacher, MiniLM-L6 fine-tuned", "dair": 0.89, "meld": 0.41},
        {"model": "pair: pair", "dair": 0.91}]
    assert text_models_compared({"model_id": "alone", "metrics": {"dair_test": {"macro_f1": 0.9}}}) == []


def test_a_column_of_flags_with_gaps_reads_yes_no_and_converts_to_arrow():
    table = pd.DataFrame({"label": ["happy", "no face"], "uncertain": [True, None], "track_id": [1, None]})
    shown = displayed(table)
    assert list(shown["uncertain"]) == ["yes", NOTHING] and list(shown["label"]) == ["happy", "no face"]
    assert pa.Table.from_pandas(shown).num_rows == 2
