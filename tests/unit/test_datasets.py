import pytest

from emotion_core.datasets import find_labelled_files
from emotion_core.errors import InvalidInputError


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")


def test_nested_label_folders_prefix_and_unknown_labels(tmp_path):
    for name in ["train/happy/Training_1.jpg", "test/happy/PrivateTest_2.jpg", "test/Sadness/PrivateTest_3.png",
                 "test/contempt/PrivateTest_4.jpg", "test/happy/PublicTest_5.jpg", "test/happy/notes.txt"]:
        touch(tmp_path / name)
    found = find_labelled_files(tmp_path, suffixes=[".jpg", ".png"], prefix="PrivateTest")
    assert [p.name for p in found.paths] == ["PrivateTest_3.png", "PrivateTest_2.jpg"]
    assert found.labels == ["sad", "happy"]
    assert found.skipped == [{"path": str(tmp_path / "test/contempt/PrivateTest_4.jpg"),
                              "reason": "unknown label 'contempt'"}]


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(InvalidInputError, match="is not a folder"):
        find_labelled_files(tmp_path / "nope", suffixes=[".jpg"])
    with pytest.raises(InvalidInputError, match="no .jpg files"):
        find_labelled_files(tmp_path, suffixes=[".jpg"])
