import pytest

from emotion_core.errors import InvalidInputError
from emotion_core.evaluation import classification_report, evaluate_items
from emotion_core.labels import EMOTIONS
from emotion_core.result import EmotionResult


class TestClassificationReport:
    def test_hand_computed_example(self):
        y_true = ["happy", "happy", "sad", "sad", "angry"]
        y_pred = ["happy", "sad", "sad", "sad", "happy"]
        report = classification_report(y_true, y_pred)
        assert report["n"] == 5
        assert report["accuracy"] == 0.6
        # recall: happy 1/2, sad 2/2, angry 0/1 -> UAR 0.5
        assert report["uar"] == 0.5
        # precision: happy 1/2, sad 2/3, angry 0 -> F1 happy 0.5, sad 0.8, angry 0 -> macro 0.4333
        assert report["per_class"]["sad"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "support": 2}
        assert report["macro_f1"] == pytest.approx(0.4333, abs=1e-4)
        labels = report["confusion"]["labels"]
        matrix = report["confusion"]["matrix"]
        assert matrix[labels.index("happy")][labels.index("sad")] == 1
        assert sum(map(sum, matrix)) == 5

    def test_absent_classes_do_not_count_in_macro_averages(self):
        report = classification_report(["happy", "sad"], ["happy", "sad"])
        assert set(report["per_class"]) == {"happy", "sad"}
        assert report["macro_f1"] == 1.0 and report["uar"] == 1.0

    def test_predicting_a_class_the_test_set_lacks_costs_recall_not_a_zero_class(self):
        report = classification_report(["happy", "happy", "sad", "sad"], ["happy", "neutral", "sad", "sad"])
        assert report["per_class"]["neutral"]["support"] == 0  # listed, so the user sees it
        assert report["uar"] == 0.75
        # happy: P 1, R 0.5, F1 0.667; sad: P 1, R 1, F1 1 -> macro over the two classes present
        assert report["macro_f1"] == pytest.approx(0.8333, abs=1e-4)

    def test_lengths_must_match(self):
        with pytest.raises(ValueError):
            classification_report(["happy"], [])


def test_evaluate_items_reports_what_it_skips():
    def predict(item):
        if item == "broken":
            raise InvalidInputError("broken: damaged")
        if item == "empty":
            return None
        return EmotionResult.from_probabilities([0, 0, 0, 1, 0, 0, 0], modality="face", model_id="stub")

    report = evaluate_items(["a", "broken", "empty", "b"], ["happy", "happy", "sad", "sad"], predict)
    assert report["n"] == 2 and report["accuracy"] == 0.5
    assert report["skipped"] == [{"path": "broken", "reason": "broken: damaged"},
                                 {"path": "empty", "reason": "no face found"}]
    assert report["ms_per_item"] >= 0
    assert set(report) >= {"n", "accuracy", "macro_f1", "uar", "per_class", "confusion", "ms_per_item", "skipped"}


def test_evaluate_face_reads_rafdb_number_folders(tmp_path):
    """RAF-DB's DATASET/test/1..7 layout (1 surprise ... 7 neutral) with --corpus rafdb; a stub predictor says
    'happy' for bright crops."""
    import cv2
    import numpy as np

    from emotion_core.evaluation import evaluate_face

    for folder, brightness in (("4", 250), ("4", 240), ("1", 10), ("7", 250)):
        (tmp_path / "test" / folder).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / "test" / folder / f"test_{folder}_{brightness}.jpg"),
                    np.full((100, 100, 3), brightness, np.uint8))

    class Stub:
        model_id, detector = "stub", type("D", (), {"name": "none"})()

        def predict_crop(self, image):
            label = "happy" if image.mean() > 128 else "surprise"
            return EmotionResult.from_probabilities([float(e == label) for e in EMOTIONS], modality="face",
                                                    model_id="stub")

    report = evaluate_face(tmp_path, Stub(), detect="never", corpus="rafdb")
    assert report["n"] == 4 and report["accuracy"] == 0.75 and report["corpus"] == "rafdb"
    assert report["per_class"]["happy"]["support"] == 2 and report["per_class"]["neutral"]["recall"] == 0.0
    assert report["per_class"]["surprise"]["recall"] == 1.0
    plain = evaluate_face(tmp_path, Stub(), detect="never")  # without the corpus, number folders are no labels
    assert plain["n"] == 0 and len(plain["skipped"]) == 4
