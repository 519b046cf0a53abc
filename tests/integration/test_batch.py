"""``batch`` end to end on real local Ray (one worker): a small generated archive with a photo, a video cut into
two parts, a recording, a table of texts, a broken photo and a file of an unsupported kind."""

import json

import pandas as pd
import pytest

from benchmarks.batch_scale import make_archive
from emotion_core.cli import main

pytest.importorskip("ray")


def batch(capsys, archive, out, *extra) -> tuple[int, dict, str]:
    status = main(["batch", str(archive), "--out", str(out), "--workers", "1", "--part-seconds", "0.5", *extra])
    err = capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text()) if (out / "manifest.json").exists() else {}
    return status, manifest, err


def test_an_archive_runs_through_ray_and_resumes_without_doing_work_twice(capsys, tmp_path):
    archive = make_archive(tmp_path / "archive", images=1, videos=1, audios=1, texts=3, video_seconds=1.0,
                           audio_seconds=3.0)
    out = tmp_path / "out"
    status, manifest, err = batch(capsys, archive, out)
    assert status == 0, err
    run = manifest["latest"]
    assert "batch: 5 file(s) analysed" in err  # photo, video, recording, table and the broken photo
    assert run["counts"]["parts"] == 6 and run["counts"]["parts_analysed"] == 5  # the video in two parts
    assert run["models"]["face"] and run["models"]["speech"] and run["models"]["text"]
    assert run["machine"]["ray"] and run["machine"]["isa"] and run["cluster"]["workers"] == 1

    items = {kind: pd.read_parquet(out / "items" / f"{kind}.parquet") for kind in ("image", "video", "audio", "text")}
    assert list(items["image"]["label"]) == ["happy"]  # the astronaut smiles
    video = items["video"]
    assert list(video["frame"]) == list(range(10)) and set(video["part"]) == {0, 1}  # numbering runs on
    assert list(items["text"]["row"]) == [1, 2, 3] and list(items["text"]["id"]) == ["1", "2", "3"]
    assert {"segment", "start_s", "end_s", "label", "p_neutral"} <= set(items["audio"].columns)
    for kind, table in items.items():  # the columns analyze --csv prints, after file, sha256 and part
        assert list(table.columns[:3]) == ["file", "sha256", "part"], kind

    files = pd.read_parquet(out / "files.parquet").set_index("kind")
    assert sorted(files.index) == ["audio", "image", "text", "video"]
    assert files.loc["video", "parts"] == 2 and files.loc["video", "items"] == 10
    assert files.loc["image", "label"] == "happy"
    assert files.loc["text", "items"] == 3
    assert abs(sum(files.loc["image", [c for c in files.columns if c.startswith("mean_p_")]]) - 1) < 1e-4

    errors = pd.read_parquet(out / "errors.parquet")
    assert sorted(errors["file"].map(lambda f: f.rsplit("/", 1)[-1])) == ["broken.jpg", "notes.docx"]
    assert "damaged or truncated" in errors.set_index("kind").loc["image", "reason"]

    # A run killed before the video's second part was written, and a new text since: --resume does just those.
    journal = out / "journal.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    (second,) = [r for r in records if r["type"] == "part" and r["kind"] == "video" and r["key"].endswith("-0001")]
    kept = [r for r in records if r is not second and not (r["type"] == "file" and r["kind"] == "video")]
    journal.write_text("".join(json.dumps(r) + "\n" for r in kept))
    (out / "parts" / "video" / f"{second['key']}.parquet").unlink()
    (archive / "more.txt").write_text("What a lovely surprise. I did not expect you at all!")

    assert batch(capsys, archive, out)[0] == 2  # an earlier run is there: refused without --resume
    status, manifest, err = batch(capsys, archive, out, "--resume")
    assert status == 0, err
    again = manifest["latest"]
    assert again["counts"]["parts_analysed"] == 2 and again["counts"]["parts_resumed"] == 1
    assert again["counts"]["already_done"] == 5  # the photo, the recording, the table and both errors
    assert len(manifest["runs"]) == 2
    assert list(pd.read_parquet(out / "items" / "video.parquet")["frame"]) == list(range(10))
    files = pd.read_parquet(out / "files.parquet")
    assert len(files) == 5 and files.set_index("kind").loc["video", "items"] == 10
    assert len(pd.read_parquet(out / "errors.parquet")) == 2
