"""Benchmark figures carry the command that made them and the machine they came from."""

import json
import sys

from benchmarks.common import command_line, machine_info, save_results


def test_saved_results_name_their_command(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/repo/benchmarks/speech_speed.py", "--seconds", "300", "--out", "a b.json"])
    path = tmp_path / "results" / "speech.json"
    save_results({"machine": machine_info(), "times_real_time": 64.4}, path)
    saved = json.loads(path.read_text())
    assert saved["command"] == "python -m benchmarks.speech_speed --seconds 300 --out 'a b.json'"
    assert saved["times_real_time"] == 64.4
    assert saved["machine"]["cpu"] and isinstance(saved["machine"]["isa"], list)


def test_a_command_the_results_give_is_kept(tmp_path):
    path = tmp_path / "batch.json"
    save_results({"command": command_line(["--images", "4"]), "wall_s": 1.0}, path)
    assert json.loads(path.read_text())["command"].endswith("--images 4")
