"""FER+'s votes found for FER-2013's files by their pixels, on a tiny fake FER+ made here."""

import cv2
import numpy as np
import pytest

from emotion_core.face.ferplus import VOTES, ferplus_votes, is_face, majority_label, read_ferplus, vote_shares
from emotion_core.labels import EMOTIONS
from emotion_core.result import EmotionResult


def _picture(seed: int) -> np.ndarray:
    """A 48 x 48 grey picture with smooth structure, as a face crop has (JPEG keeps it close)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 6)).astype(np.uint8)
    return cv2.resize(small, (48, 48), interpolation=cv2.INTER_CUBIC)


@pytest.fixture()
def folders(tmp_path):
    ferplus = tmp_path / "ferplus" / "FER2013Test"
    ferplus.mkdir(parents=True)
    rows = {"fer0000001.png": (0, 9, 1, 0, 0, 0, 0, 0, 0, 0), "fer0000002.png": (1, 0, 0, 0, 0, 0, 0, 0, 3, 6)}
    for seed, name in enumerate(rows, start=1):
        cv2.imwrite(str(ferplus / name), _picture(seed))
    (ferplus / "label.csv").write_text("".join(f'{name},"(0, 0, 48, 48)",{",".join(map(str, votes))}\n'
                                               for name, votes in rows.items()))
    fer = tmp_path / "fer2013" / "test" / "sad"  # FER-2013's label; FER+'s voters call picture 1 happy
    fer.mkdir(parents=True)
    files = []
    for seed in (2, 3, 1):  # seed 3 is a picture FER+ does not hold
        path = fer / f"PrivateTest_{seed}.jpg"
        cv2.imwrite(str(path), _picture(seed), [cv2.IMWRITE_JPEG_QUALITY, 75])
        files.append(path)
    return tmp_path / "ferplus", files


def test_votes_follow_the_pictures_not_the_names(folders):
    ferplus_dir, files = folders
    votes = ferplus_votes(files, ferplus_dir, chunk=2)
    assert votes[0].tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 3, 6]
    assert votes[1] is None
    assert votes[2].tolist() == [0, 9, 1, 0, 0, 0, 0, 0, 0, 0]


def test_a_face_is_in_ferplus_and_not_voted_away(folders):
    ferplus_dir, files = folders
    assert [is_face(votes) for votes in ferplus_votes(files, ferplus_dir)] == [False, False, True]


def test_reading_an_empty_folder_says_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="label.csv"):
        read_ferplus(tmp_path)


def test_votes_come_in_the_published_order(folders):
    images, votes = read_ferplus(folders[0])
    assert [path.name for path in images] == ["fer0000001.png", "fer0000002.png"]
    assert votes.shape == (2, len(VOTES)) and VOTES[-1] == "NF"


@pytest.mark.parametrize("votes, label", [
    ((0, 9, 1, 0, 0, 0, 0, 0, 0, 0), "happy"),
    ((0, 0, 0, 0, 6, 0, 0, 4, 0, 0), "angry"),
    ((5, 5, 0, 0, 0, 0, 0, 0, 0, 0), None),  # half is no majority
    ((0, 0, 0, 0, 0, 0, 0, 8, 2, 0), None),  # contempt has no canonical counterpart
    (None, None),
])
def test_the_majority_is_more_than_half_of_the_votes(votes, label):
    assert majority_label(None if votes is None else np.array(votes)) == label


def test_vote_shares_count_only_the_seven_emotions():
    shares = vote_shares(np.array((2, 4, 0, 0, 2, 0, 0, 1, 1, 0)))  # contempt and unknown are left out
    expected = {"neutral": 0.25, "happy": 0.5, "angry": 0.25}
    np.testing.assert_allclose(shares, [expected.get(e, 0.0) for e in EMOTIONS])
    assert vote_shares(np.array((0, 0, 0, 0, 0, 0, 0, 7, 3, 0))) is None  # no canonical emotion voted
    assert vote_shares(np.array((1, 0, 0, 0, 0, 0, 0, 0, 3, 6))) is None  # not a face
    assert vote_shares(None) is None


def test_training_targets_mix_ferplus_votes_and_drop_non_faces(folders):
    pytest.importorskip("keras")
    from emotion_core.training.face.train import with_ferplus_targets

    ferplus_dir, files = folders  # FER+: file 0 not a face, file 1 unknown to FER+, file 2 voted 9 happy 1 surprise
    faces = np.arange(3)[:, None, None] * np.ones((3, 4, 4), dtype=np.uint8)
    sad = EMOTIONS.index("sad")
    kept, targets, counts = with_ferplus_targets(faces, np.array([sad] * 3), files, ferplus_dir, weight=0.5)
    assert counts == {"faces": 1, "dropped_not_a_face": 2, "own_label_only": 0}
    assert kept[:, 0, 0].tolist() == [2]
    expected = {"sad": 0.5, "happy": 0.45, "surprise": 0.05}
    np.testing.assert_allclose(targets[0], [expected.get(e, 0.0) for e in EMOTIONS], atol=1e-6)


def test_evaluate_face_judges_against_the_ferplus_majority(folders):
    from emotion_core.evaluation import evaluate_face

    ferplus_dir, files = folders

    class SaysHappy:
        model_id, detector = "stub", type("D", (), {"name": "none"})()

        def predict_crop(self, image):
            return EmotionResult.from_probabilities([float(e == "happy") for e in EMOTIONS], modality="face",
                                                    model_id="stub")

    fer_dir = files[0].parents[1]
    assert evaluate_face(fer_dir, SaysHappy(), detect="never")["accuracy"] == 0.0  # FER-2013's label: sad
    report = evaluate_face(fer_dir, SaysHappy(), detect="never", ferplus_dir=ferplus_dir)
    assert report["n"] == 1 and report["accuracy"] == 1.0 and report["labels"] == "FER+ majority"
    assert sorted(skip["reason"] for skip in report["skipped"]) == ["FER+: not a face"] * 2
