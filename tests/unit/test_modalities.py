"""The modality registry, and a toy modality registered in a test flowing through fusion, storage and export."""

import numpy as np
import pandas as pd
import pytest

from emotion_core.accounts import Accounts
from emotion_core.alerts import Rule
from emotion_core.analytics import rows_table
from emotion_core.face.predictor import FACE_MODEL
from emotion_core.fusion.windows import default_weights, fuse_timeline
from emotion_core.labels import EMOTIONS
from emotion_core.modalities import FUSED, MODALITIES, Modality, result_modalities
from emotion_core.modelcard import list_cards, load_card
from emotion_core.result import EmotionResult
from emotion_core.speech.predictor import SPEECH_MODEL
from emotion_core.storage.store import HistoryStore, result_row
from emotion_core.text.predictor import TEXT_MODEL
from emotion_core.viz import contribution_bars
from tests.conftest import MODELS

TOY = Modality("thermal", colour="#9467bd", model="thermal_net", reliability=("validation", "accuracy"),
               reliability_note="validation accuracy")


@pytest.fixture()
def toy(monkeypatch):
    """A fourth modality, registered for one test only."""
    monkeypatch.setitem(MODALITIES, TOY.name, TOY)
    return TOY


def one_hot(label: str) -> np.ndarray:
    return np.eye(len(EMOTIONS))[EMOTIONS.index(label)]


def certain(modality: str, label: str, span: tuple[float, float]) -> EmotionResult:
    return EmotionResult.from_probabilities(one_hot(label), modality=modality, model_id="m", span=span)


def result(modality: str, label: str, span=(0.0, 1.0)) -> EmotionResult:
    return EmotionResult.from_probabilities(0.4 * one_hot(label) + 0.6 / len(EMOTIONS), modality=modality,
                                            model_id=f"{modality}-model", span=span)


class TestRegistry:
    def test_lists_the_three_modalities_with_their_shipped_models(self):
        assert {m.name: m.model for m in MODALITIES.values()} == {"face": FACE_MODEL, "speech": SPEECH_MODEL,
                                                                  "text": TEXT_MODEL}
        assert result_modalities() == ("face", "speech", "text", FUSED)

    def test_every_reliability_figure_is_in_its_models_card(self):
        for modality in MODALITIES.values():
            figure = modality.measured_reliability(load_card(MODELS, modality.model))
            assert figure is not None and 1 / len(EMOTIONS) < figure <= 1, modality.name

    def test_a_missing_or_non_numeric_figure_is_none(self):
        face = MODALITIES["face"]
        assert face.measured_reliability({"metrics": {"PublicTest": {}}}) is None
        assert face.measured_reliability({"metrics": {"PublicTest": {"accuracy": "n/a"}}}) is None
        assert face.measured_reliability({"metrics": ["PublicTest"]}) is None

    def test_fusion_weighs_each_modality_by_its_cards_figure(self):
        weights = default_weights(list_cards(MODELS))
        assert weights == {m.name: round(m.measured_reliability(load_card(MODELS, m.model)), 4)
                           for m in MODALITIES.values()}

    def test_a_result_of_an_unregistered_modality_is_refused(self):
        with pytest.raises(ValueError, match="modality must be one of"):
            result("thermal", "angry")


class TestToyModality:
    def test_is_a_valid_result_and_survives_json(self, toy):
        exported = result(toy.name, "angry").to_dict()
        assert exported["modality"] == "thermal" and EmotionResult.from_dict(exported).to_dict() == exported

    def test_is_fused_with_the_others(self, toy):
        timeline = [certain("face", "happy", (0.5, 0.5)), certain(toy.name, "angry", (0.0, 1.0))]
        (window,) = fuse_timeline(timeline, duration_s=1.0, weights={"face": 1.0, toy.name: 3.0})
        assert set(window.per_modality) == {"face", toy.name}
        assert window.fused.label == "angry" and window.disagreement
        row = window.to_row()
        assert row["modalities"] == "face+thermal"
        assert row["thermal_label"] == "angry" and row["thermal_share"] == pytest.approx(1.0)
        assert row["speech_label"] is None and row["speech_share"] == 0.0

    def test_weighs_what_its_card_says_else_chance(self, toy):
        card = {"name": "thermal_net", "modality": "thermal", "validation": {"accuracy": 0.5}}
        assert default_weights([card])[toy.name] == 0.5
        assert default_weights([])[toy.name] == pytest.approx(1 / len(EMOTIONS))

    def test_has_its_colour_in_the_contribution_chart(self, toy):
        (window,) = fuse_timeline([certain(toy.name, "sad", (0.0, 1.0))], duration_s=1.0,
                                  weights={toy.name: 1.0})
        bars = {bar.name: bar for bar in contribution_bars(pd.DataFrame([window.to_row()])).data}
        assert list(bars) == [*MODALITIES]
        assert bars[toy.name].marker.color == toy.colour and list(bars[toy.name].y) == [1.0]

    def test_is_stored_raises_multimodal_alerts_and_is_exported(self, toy, tmp_path):
        store = HistoryStore.open(f"sqlite:///{tmp_path / 'history.db'}", media_dir=tmp_path / "media")
        admin = Accounts(store).create_user("ada", "a long enough password", "admin")
        store.save_rule(admin, Rule("angry in two", "multimodal", labels=("angry",), threshold=0.3, min_seconds=1))
        rows = [result_row(result("face", "angry", span=(0.2, 0.2))), result_row(result(toy.name, "angry"))]
        saved = store.save_analysis(user=admin, kind="multimodal", source_name="toy", rows=rows)

        stored = store.analysis(saved.id, admin)
        assert list(rows_table(stored)["modality"]) == ["face", "thermal"]
        assert [a.detail for a in stored.alerts] == ["angry above 30% in face and thermal"]
        (exported,) = store.export_user_data(admin)["analyses"]
        assert [r["modality"] for r in exported["rows"]] == ["face", "thermal"]
        assert exported["rows"][1]["p_angry"] == pytest.approx(result(toy.name, "angry").scores["angry"])
        store.engine.dispose()
