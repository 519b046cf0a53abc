"""The command line through main(argv), as a user runs it."""

import io
import json

import cv2
import pytest

from emotion_core.accounts import Accounts
from emotion_core.cli import main
from emotion_core.storage.store import HistoryStore
from tests.conftest import encode

PASSWORD = "a long enough password"


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

    def test_calibrated_run_records_commands_that_reproduce_its_figures(self, capsys, tmp_path, astronaut_bgr):
        import shlex
        import shutil

        from emotion_core.config import Settings

        models = Settings.from_env().models_dir
        run_dir = tmp_path / "run"  # the shipped MobileNetV2, laid out as a training run leaves it
        run_dir.mkdir()
        shutil.copyfile(models / "face_expression_mnv2.onnx", run_dir / "face_expression.onnx")
        card = json.loads((models / "face_expression_mnv2.card.json").read_text())
        (run_dir / "face_expression.card.json").write_text(json.dumps({**card, "file": "face_expression.onnx"}))
        data = tmp_path / "fer2013"
        faces = {"happy/PublicTest_1.png": astronaut_bgr, "sad/PublicTest_2.png": astronaut_bgr[:, ::-1],
                 "happy/PrivateTest_3.png": astronaut_bgr, "sad/PrivateTest_4.png": astronaut_bgr[::2]}
        for name, image in faces.items():
            (data / name).parent.mkdir(parents=True, exist_ok=True)
            (data / name).write_bytes(encode(image))
        assert run(capsys, "calibrate", "face", "--data", str(data), "--model-dir", str(run_dir))[0] == 0
        recorded = json.loads((run_dir / "face_expression.card.json").read_text())["metrics"]
        for split in ("PublicTest", "PrivateTest"):
            argv = shlex.split(recorded[split]["command"])[3:]  # after "python -m emotion_core"
            assert run(capsys, *argv, "--json", str(tmp_path / "again.json"))[0] == 0
            again = json.loads((tmp_path / "again.json").read_text())
            assert again["detector"] == recorded[split]["detector"] == "blazeface"
            assert again["confusion"] == recorded[split]["confusion"]

    def test_detect_always_is_the_detector_alone(self, capsys, labelled_folder):
        status, out, _ = run(capsys, "evaluate", "face", "--data", str(labelled_folder), "--prefix", "PrivateTest",
                             "--detect", "always", "--detector", "blazeface", "--json", "-")
        report = json.loads(out[out.index("{"):])
        assert status == 0 and report["n"] == 1  # the 48 px crop is skipped: no face for BlazeFace alone
        status, out, _ = run(capsys, "evaluate", "face", "--data", str(labelled_folder), "--prefix", "PrivateTest",
                             "--detect", "always", "--json", "-")
        assert json.loads(out[out.index("{"):])["n"] == 2  # MTCNN, the photos' default, finds tight crops itself

    def test_missing_folder(self, capsys, tmp_path):
        status, _, err = run(capsys, "evaluate", "face", "--data", str(tmp_path / "none"))
        assert status == 2 and "is not a folder" in err


class TestUsers:
    def test_disable_and_enable(self, capsys, tmp_path, monkeypatch):
        monkeypatch.setenv("EMOTION_LENS_HOME", str(tmp_path))
        for name, role in (("ada", "admin"), ("bob", "analyst")):
            monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
            assert run(capsys, "users", "add", name, "--role", role)[0] == 0
        store = HistoryStore.open(f"sqlite:///{tmp_path / 'emotion_lens.db'}", media_dir=tmp_path / "media")

        def disabled() -> dict[str, bool]:
            return {u.name: u.disabled for u in Accounts(store).users()}

        status, out, _ = run(capsys, "users", "disable", "bob")
        assert status == 0 and "disabled 'bob'" in out and disabled() == {"ada": False, "bob": True}
        status, _, err = run(capsys, "users", "disable", "ada")
        assert status == 2 and "last enabled admin" in err and not disabled()["ada"]
        status, out, _ = run(capsys, "users", "enable", "bob")
        assert status == 0 and "enabled 'bob'" in out and disabled() == {"ada": False, "bob": False}
        assert run(capsys, "users", "disable", "nobody")[0] == 2
        store.engine.dispose()


    def test_passwd_sets_a_password_read_like_add(self, capsys, tmp_path, monkeypatch):
        monkeypatch.setenv("EMOTION_LENS_HOME", str(tmp_path))
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        run(capsys, "users", "add", "ada", "--role", "admin")
        store = HistoryStore.open(f"sqlite:///{tmp_path / 'emotion_lens.db'}", media_dir=tmp_path / "media")
        accounts = Accounts(store)
        session = accounts.start_session(accounts.users()[0])
        monkeypatch.setattr("sys.stdin", io.StringIO("a new long password\n"))
        status, out, _ = run(capsys, "users", "passwd", "ada")
        assert status == 0 and "changed the password of 'ada'" in out
        assert accounts.authenticate("ada", "a new long password", source="shell").name == "ada"
        assert accounts.user_for_session(session) is None
        monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
        status, _, err = run(capsys, "users", "passwd", "ada")
        assert status == 2 and "at least 10 characters" in err
        assert run(capsys, "users", "passwd", "nobody")[0] == 2
        store.engine.dispose()


class TestRules:
    @pytest.fixture()
    def home_store(self, tmp_path, monkeypatch):
        """The store the commands use (EMOTION_LENS_HOME), as the pages would open it."""
        from emotion_core.config import Settings
        from emotion_core.storage.store import HistoryStore

        monkeypatch.setenv("EMOTION_LENS_HOME", str(tmp_path))
        settings = Settings.from_env()
        opened = HistoryStore.open(settings.sqlalchemy_url, media_dir=settings.media_dir)
        yield opened
        opened.engine.dispose()

    def test_add_list_and_delete(self, capsys, home_store):
        status, out, _ = run(capsys, "rules", "add", "--name", "happy for 1 s", "--kind", "sustained",
                             "--labels", "happy", "--threshold", "0.6", "--seconds", "1")
        assert status == 0 and out == "added rule 1: 'happy for 1 s', sustained, happy above 0.6 for 1 s\n"
        assert run(capsys, "rules", "add", "--name", "upset")[0] == 0  # the Admin page's defaults
        status, out, _ = run(capsys, "rules", "list", "--json")
        assert status == 0 and json.loads(out) == [
            {"id": 1, "name": "happy for 1 s", "kind": "sustained", "labels": ["happy"], "threshold": 0.6,
             "min_seconds": 1.0, "enabled": True},
            {"id": 2, "name": "upset", "kind": "sustained", "labels": ["angry", "disgust", "fear", "sad"],
             "threshold": 0.6, "min_seconds": 3.0, "enabled": True}]
        assert [(r.name, r.labels) for r in home_store.rules()] == [("happy for 1 s", ["happy"]),
                                                               ("upset", ["angry", "disgust", "fear", "sad"])]
        assert run(capsys, "rules", "delete", "1")[:2] == (0, "deleted rule 1; the alerts it raised stay\n")
        status, out, _ = run(capsys, "rules", "list")
        assert status == 0 and out == "rule 2: 'upset', sustained, angry/disgust/fear/sad above 0.6 for 3 s\n"

    def test_no_rules_and_a_missing_one(self, capsys, home_store):
        assert run(capsys, "rules", "list") == (0, "no alert rules (add one with `rules add`)\n", "")
        assert run(capsys, "rules", "delete", "7") == (2, "", "error: rule 7 does not exist.\n")

    @pytest.mark.parametrize("option, message", [
        (["--labels", "happy", "grumpy"], "unknown labels grumpy; the labels are angry, disgust,"),
        (["--kind", "often"], "the kind must be one of sustained, multimodal, got 'often'"),
        (["--threshold", "1.5"], "the threshold must be above 0 and at most 1, got 1.5"),
        (["--seconds", "-1"], "the duration must be 0 s or more, got -1.0"),
        (["--name", " "], "the name must have 1 to 120 characters"),
    ])
    def test_bad_rules_exit_2_with_one_line(self, capsys, home_store, option, message):
        status, out, err = run(capsys, "rules", "add", "--name", "r", *option)
        assert (status, out) == (2, "") and err.startswith("error: rule: ") and message in err
        assert err.count("\n") == 1 and home_store.rules() == []


def test_training_without_the_training_packages_says_what_to_install(capsys, monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "keras", None)  # as if requirements-train.txt were not installed
    monkeypatch.delitem(sys.modules, "emotion_core.training.face.train", raising=False)
    monkeypatch.delitem(sys.modules, "emotion_core.training.layers", raising=False)
    monkeypatch.delitem(sys.modules, "emotion_core.training.face.augment", raising=False)
    status, _out, err = run(capsys, "train", "face", "--data", str(tmp_path))
    assert status == 2 and "pip install -r requirements-train.txt" in err and "keras" in err


@pytest.mark.parametrize(("model", "teacher_epochs", "expected"), [
    ("bilstm_distilled", [], 2), ("bilstm_distilled", ["--teacher-epochs", "1"], 1), ("bilstm", [], None)])
def test_train_text_teacher_comes_from_the_flags(model, teacher_epochs, expected):
    from emotion_core.cli import build_parser
    from emotion_core.cli.train import text_teacher
    from emotion_core.training.text.train import CORPORA_LSTM

    args = build_parser().parse_args(["train", "text", "--data", "d", "--corpora", "all", "--model", model,
                                      *teacher_epochs])
    teacher = text_teacher(args, CORPORA_LSTM)
    assert (teacher and teacher.epochs) == expected
    if teacher:
        assert teacher.layers == 6 and teacher.corpus_shares == CORPORA_LSTM.corpus_shares
