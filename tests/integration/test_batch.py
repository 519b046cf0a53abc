"""``batch`` end to end on real local Ray (one worker): a small generated archive with a photo, a video cut into
two parts, a recording, a table of texts, a broken photo and a file of an unsupported kind. Ray runs twice in
all (the first run, and a resumed one), which keeps the file under a minute on two cores."""

import io
import json

import pandas as pd
import pytest

from benchmarks.batch_scale import make_archive
from emotion_core.cli import main
from emotion_core.errors import InvalidInputError
from emotion_core.storage.history import import_batch

pytest.importorskip("ray")

KINDS = ("image", "video", "audio", "text")


def batch(archive, out, *extra) -> int:
    return main(["batch", str(archive), "--out", str(out), "--workers", "1", "--part-seconds", "0.5", *extra])


def latest(out) -> dict:
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    archive = make_archive(root / "archive", images=1, videos=1, audios=1, texts=3, video_seconds=1.0,
                           audio_seconds=3.0)
    status = batch(archive, root / "out")
    assert status == 0
    return archive, root / "out", latest(root / "out")["latest"]


class TestFirstRun:
    def test_manifest(self, first_run):
        _, _, run = first_run
        assert run["counts"]["files_planned"] == 5  # photo, video, recording, table and the broken photo
        assert run["counts"]["parts"] == 6 and run["counts"]["parts_analysed"] == 5  # the video in two parts
        assert run["models"]["face"] and run["models"]["speech"] and run["models"]["text"]
        assert run["machine"]["ray"] and run["machine"]["isa"] and run["cluster"]["workers"] == 1
        assert run["totals"] == {"files": 4, "errors": 2, "items_image": 1, "items_video": 10, "items_audio": 1,
                                 "items_text": 3, "items": 15}

    def test_items_have_the_columns_of_analyze_csv(self, first_run):
        _, out, _ = first_run
        items = {kind: pd.read_parquet(out / "items" / f"{kind}.parquet") for kind in KINDS}
        assert list(items["image"]["label"]) == ["happy"]  # the astronaut smiles
        video = items["video"]
        assert list(video["frame"]) == list(range(10)) and set(video["part"]) == {0, 1}  # numbering runs on
        assert list(items["text"]["row"]) == [1, 2, 3] and list(items["text"]["id"]) == ["1", "2", "3"]
        assert {"segment", "start_s", "end_s", "label", "p_neutral"} <= set(items["audio"].columns)
        assert {"source", "box_x", "detector_score", "uncertain"} <= set(items["image"].columns)
        for kind, table in items.items():
            assert list(table.columns[:3]) == ["file", "sha256", "part"], kind

    def test_file_summaries_and_errors(self, first_run):
        _, out, _ = first_run
        files = pd.read_parquet(out / "files.parquet").set_index("kind")
        assert sorted(files.index) == sorted(KINDS)
        assert files.loc["video", "parts"] == 2 and files.loc["video", "items"] == 10
        assert files.loc["image", "label"] == "happy" and files.loc["text", "items"] == 3
        assert abs(sum(files.loc["image", [c for c in files.columns if c.startswith("mean_p_")]]) - 1) < 1e-4
        errors = pd.read_parquet(out / "errors.parquet")
        assert sorted(errors["file"].map(lambda f: f.rsplit("/", 1)[-1])) == ["broken.jpg", "notes.docx"]
        assert "damaged or truncated" in errors.set_index("kind").loc["image", "reason"]


def test_import_into_history(first_run, store, people):
    _, out, _ = first_run
    _, _, analyst, _ = people
    saved, present = import_batch(store, analyst, out)
    files = pd.read_parquet(out / "files.parquet")
    assert present == 0 and sorted(a.kind for a in saved) == sorted(files["kind"])
    video = next(a for a in saved if a.kind == "video")
    stored = store.analysis(video.id, analyst)
    assert video.label == "happy" and len(stored.rows) == 10 and stored.rows[0].modality == "face"
    items = pd.read_parquet(out / "items" / "video.parquet")
    assert [(row.start_s, row.label, row.detail["frame"]) for row in stored.rows] == list(
        zip(items["time_s"], items["label"], items["frame"]))
    audio = store.analysis(next(a for a in saved if a.kind == "audio").id, analyst)
    assert [(row.modality, row.track) for row in audio.rows] == [("speech", "1")]
    assert stored.summary["sha256"] == files.set_index("kind").loc["video", "sha256"]
    assert import_batch(store, analyst, out) == ([], len(files))  # nothing twice
    with pytest.raises(InvalidInputError, match="no batch run here"):
        import_batch(store, analyst, out.parent / "archive")


def test_batch_import_command(first_run, tmp_path, monkeypatch, capsys):
    _, out, _ = first_run
    monkeypatch.setenv("EMOTION_LENS_HOME", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["users", "add", "ann", "--role", "admin"]) == 0
    assert main(["batch-import", str(out), "--user", "ann"]) == 0
    assert "imported 4 analyses" in capsys.readouterr().out
    assert main(["batch-import", str(out), "--user", "nobody"]) == 2
    assert "user 'nobody' does not exist" in capsys.readouterr().err


def test_a_killed_run_resumes_without_doing_work_twice(first_run):
    archive, out, _ = first_run
    # As if the run had been killed before the video's second part was written, and a text was added since.
    journal = out / "journal.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    (second,) = [r for r in records if r["type"] == "part" and r["kind"] == "video" and r["key"].endswith("-0001")]
    kept = [r for r in records if r is not second and not (r["type"] == "file" and r["kind"] == "video")]
    journal.write_text("".join(json.dumps(r) + "\n" for r in kept))
    (out / "parts" / "video" / f"{second['key']}.parquet").unlink()
    (archive / "more.txt").write_text("What a lovely surprise. I did not expect you at all!")

    assert batch(archive, out) == 2  # an earlier run is there: refused without --resume
    assert batch(archive, out, "--resume") == 0
    manifest = latest(out)
    again = manifest["latest"]
    assert again["counts"]["parts_analysed"] == 2 and again["counts"]["parts_resumed"] == 1
    assert again["counts"]["already_done"] == 5  # the photo, the recording, the table and both errors
    assert len(manifest["runs"]) == 2
    assert list(pd.read_parquet(out / "items" / "video.parquet")["frame"]) == list(range(10))
    files = pd.read_parquet(out / "files.parquet").set_index("file")
    assert len(files) == 5 and files.loc[str(archive / "videos" / "clip_000.mp4"), "items"] == 10
    assert files.loc[str(archive / "more.txt"), "kind"] == "text"
    assert len(pd.read_parquet(out / "errors.parquet")) == 2
