"""The command line through main(argv), as a user runs it."""

import json

import cv2
import pytest

from emotion_core.cli import main
from tests.conftest import encode


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


class TestAnalyze:
    def test_photo_json(self, capsys, tmp_path, astronaut_png):
        photo = tmp_path / "astronaut.png"
        photo.write_bytes(astronaut_png)
        status, out, _ = run(capsys, "analyze", str(photo), "--json")
        data = json.loads(out)
        assert status == 0
        assert data["image"] == {"width": 512, "height": 512}
        assert [face["label"] for face in data["faces"]] == ["happy"]
        assert set(data["faces"][0]) >= {"scores", "confidence", "box", "landmarks", "detector_score", "model_id"}

    def test_a_headshot_is_one_whole_image_face(self, capsys, tmp_path, face_crop_bgr):
        photo = tmp_path / "headshot.png"
        photo.write_bytes(encode(cv2.resize(face_crop_bgr, (400, 400), interpolation=cv2.INTER_CUBIC)))
        status, out, _ = run(capsys, "analyze", str(photo), "--json")
        (face,) = json.loads(out)["faces"]
        assert status == 0 and face["label"] == "happy"
        assert face["box"] == [0, 0, 400, 400] and face["extra"] == {"detection": "whole image"}

    def test_human_summary_and_no_face(self, capsys, tmp_path, coffee_bgr):
        photo = tmp_path / "coffee.jpg"
        photo.write_bytes(encode(coffee_bgr, "JPEG"))
        status, out, _ = run(capsys, "analyze", str(photo))
        assert status == 0 and "0 face(s)" in out
        status, out, _ = run(capsys, "analyze", str(photo), "--json")
        assert json.loads(out)["reason"] == "no face found"

    @pytest.mark.parametrize("content, message", [(b"", "got 0 bytes"), (b"%PDF-1.4 not a photo" * 20,
                                                                        "not an image")])
    def test_bad_files_exit_2_with_a_message(self, capsys, tmp_path, content, message):
        path = tmp_path / "bad.jpg"
        path.write_bytes(content)
        status, out, err = run(capsys, "analyze", str(path))
        assert status == 2 and message in err and "Traceback" not in err and out == ""

    def test_missing_file(self, capsys, tmp_path):
        status, _, err = run(capsys, "analyze", str(tmp_path / "nope.png"))
        assert status == 2 and "cannot be read" in err


@pytest.fixture()
def labelled_folder(tmp_path, astronaut_bgr, coffee_bgr):
    """Whole photos and FER-style crops in label folders, plus a label the canonical set lacks."""
    root = tmp_path / "data"
    crop = cv2.cvtColor(cv2.resize(astronaut_bgr[55:185, 160:290], (48, 48)), cv2.COLOR_BGR2GRAY)
    files = {
        "happy/PrivateTest_1.png": encode(astronaut_bgr),
        "happy/PrivateTest_2.png": encode(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)),
        "sad/PrivateTest_3.jpg": encode(coffee_bgr, "JPEG"),
        "sad/PublicTest_4.jpg": encode(coffee_bgr, "JPEG"),
        "contempt/PrivateTest_5.png": encode(astronaut_bgr),
        "happy/PrivateTest_6.png": b"broken",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


class TestEvaluate:
    def test_report_keys_and_skips(self, capsys, tmp_path, labelled_folder):
        out_file = tmp_path / "report.json"
        status, out, _ = run(capsys, "evaluate", "face", "--data", str(labelled_folder), "--prefix", "PrivateTest",
                             "--json", str(out_file))
        report = json.loads(out_file.read_text())
        assert status == 0 and "accuracy=" in out
        assert set(report) >= {"n", "accuracy", "macro_f1", "uar", "per_class", "confusion", "ms_per_item",
                               "skipped"}
        # photo (detector) + 48 px crop (auto: the whole image, on a close-up look) are judged; coffee has no
        # face; contempt and the broken file are reported with their reasons
        assert report["n"] == 2 and report["accuracy"] == 1.0
        reasons = sorted(item["reason"] for item in report["skipped"])
        assert len(reasons) == 3
        assert reasons[0].startswith("PrivateTest_6.png: expected a JPEG")
        assert reasons[1:] == ["no face found", "unknown label 'contempt'"]

    def test_detect_never_takes_every_image_as_a_crop(self, capsys, labelled_folder):
        status, out, _ = run(capsys, "evaluate", "face", "--data", str(labelled_folder), "--prefix", "PrivateTest",
                             "--detect", "never", "--json", "-")
        report = json.loads(out[out.index("{"):])
        assert status == 0 and report["n"] == 3 and report["detect"] == "never"

    def test_detect_always_is_the_detector_alone(self, capsys, labelled_folder):
        status, out, _ = run(capsys, "evaluate", "face", "--data", str(labelled_folder), "--prefix", "PrivateTest",
                             "--detect", "always", "--json", "-")
        report = json.loads(out[out.index("{"):])
        assert status == 0 and report["n"] == 1  # the 48 px crop is skipped: no face for the detector alone

    def test_missing_folder(self, capsys, tmp_path):
        status, _, err = run(capsys, "evaluate", "face", "--data", str(tmp_path / "none"))
        assert status == 2 and "is not a folder" in err
