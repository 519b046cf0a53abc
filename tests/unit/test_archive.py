"""Finding, planning and summarising an archive's files (no Ray, no models)."""

from dataclasses import replace

import pandas as pd
import pytest

from emotion_core.batch.archive import (
    Part,
    expand_inputs,
    file_kind,
    file_sha256,
    part_totals,
    plan_file,
    summarize_file,
)
from emotion_core.config import Settings
from emotion_core.errors import InvalidInputError
from emotion_core.labels import EMOTIONS


def touch(path, content=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


class TestFileKind:
    @pytest.mark.parametrize(("name", "kind"), [("a.JPG", "image"), ("b.mp4", "video"), ("c.flac", "audio"),
                                                ("d.txt", "text"), ("e.csv", "text"), ("f.parquet", "text"),
                                                ("g.docx", None), ("noext", None)])
    def test_by_extension(self, name, kind):
        assert file_kind(name) == kind


class TestExpandInputs:
    def test_folders_globs_lists_and_missing(self, tmp_path):
        a = touch(tmp_path / "arch" / "x" / "a.jpg")
        b = touch(tmp_path / "arch" / "b.wav")
        touch(tmp_path / "arch" / ".cache" / "hidden.jpg")
        c = touch(tmp_path / "other" / "c.mp4")
        listing = touch(tmp_path / "lists" / "paths.txt")
        listing.write_text("# clips\n../other/c.mp4\n\n../nowhere.mp4\n")
        files, missing = expand_inputs([str(tmp_path / "arch"), str(tmp_path / "arch" / "**" / "*.jpg"),
                                        f"@{listing}", str(tmp_path / "none" / "*.png"), str(tmp_path / "gone")])
        assert files == [b, a, c]  # each once, hidden folders left out
        assert [m.reason for m in missing] == ["no such file or folder", "the pattern matches no file",
                                               "no such file or folder"]


class TestPlanFile:
    def test_a_table_is_cut_into_row_ranges(self, tmp_path):
        table = tmp_path / "t.csv"
        pd.DataFrame({"text": [f"text {i}" for i in range(7)]}).to_csv(table, index=False)
        parts = plan_file(table, kind="text", sha256=file_sha256(table), settings=Settings(), part_rows=3)
        assert [(p.part, p.parts, p.start, p.stop, p.offset) for p in parts] == [
            (0, 3, 0, 3, 0), (1, 3, 3, 6, 3), (2, 3, 6, 7, 6)]
        assert len({p.key for p in parts}) == 3

    @pytest.mark.parametrize("suffix", [".csv", ".parquet"])
    def test_a_row_range_of_a_table_is_read_alone(self, tmp_path, suffix):
        from emotion_core.media import read_table

        table = tmp_path / f"t{suffix}"
        frame = pd.DataFrame({"id": [str(i) for i in range(7)], "text": [f"text {i}" for i in range(7)]})
        frame.to_csv(table, index=False) if suffix == ".csv" else frame.to_parquet(table, index=False)
        assert list(read_table(table, start=3, stop=6)["id"]) == ["3", "4", "5"]
        assert list(read_table(table, start=6)["text"]) == ["text 6"]

    def test_a_missing_column_and_an_oversized_file_are_refused(self, tmp_path):
        table = tmp_path / "t.csv"
        pd.DataFrame({"body": ["hello"]}).to_csv(table, index=False)
        with pytest.raises(InvalidInputError, match="no column 'text'"):
            plan_file(table, kind="text", sha256="0" * 64, settings=Settings())
        with pytest.raises(InvalidInputError, match="limit"):
            plan_file(table, kind="text", sha256="0" * 64, settings=replace(Settings(), max_upload_bytes=3))


class TestSummarizeFile:
    def test_means_leave_out_items_without_an_emotion(self, tmp_path):
        video = touch(tmp_path / "v.mp4", b"0123456789")
        parts = [Part(file=str(video), sha256="f" * 64, kind="video", part=i, parts=2) for i in range(2)]
        happy = {f"p_{e}": float(e == "happy") for e in EMOTIONS}
        tables = [pd.DataFrame([{"frame": 0, "label": "happy", **happy}, {"frame": 1, "label": "no face"}]),
                  pd.DataFrame([{"frame": 2, "label": "sad", **{f"p_{e}": float(e == "sad") for e in EMOTIONS}}])]
        infos = [{"frames_analysed": 2, "totals": part_totals(tables[0])},
                 {"frames_analysed": 1, "warnings": ["w"], "totals": part_totals(tables[1])}]
        summary = summarize_file(parts, infos)
        assert summary["items"] == 3 and summary["items_with_emotion"] == 2 and summary["bytes"] == 10
        assert summary["mean_p_happy"] == summary["mean_p_sad"] == 0.5
        assert summary["frames_analysed"] == 3 and summary["warnings"] == "w" and summary["parts"] == 2
