"""Speech: every audio format and a video's sound track, segmentation, the shipped model, CLI and Audio tab.

Real speech comes from espeak-ng (Debian's package; `.ci/run` installs it) and tests that need it skip
without it; tones, silence and noise are made here. The corpora are never used.
"""

import io
import json
import shutil
import subprocess

import av
import numpy as np
import pytest
import soundfile as sf
import soxr

from emotion_core.cli import main
from emotion_core.errors import InvalidInputError, UnsupportedMediaError
from emotion_core.speech.analysis import analyze_audio
from emotion_core.speech.audio import SAMPLE_RATE, decode_audio
from emotion_core.speech.predictor import HOP, N_FFT, SpeechPredictor, frame_energy_db, voiced_segments
from tests.conftest import MODELS

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def syllables(seconds: float, *, rate: int = SAMPLE_RATE) -> np.ndarray:
    """A voice-like sound: a 140 Hz harmonic complex, opened and closed four times a second like syllables."""
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 0.5
    return (0.3 * voice * envelope / np.abs(voice).max()).astype(np.float32)


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE, fmt: str = "WAV", subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def av_audio(samples: np.ndarray, *, fmt: str, codec: str, with_video: bool = False) -> bytes:
    """Encode with PyAV: m4a/aac, or a video file with a sound track."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        if with_video:
            video = container.add_stream("libx264" if fmt == "mp4" else "libvpx-vp9", rate=10)
            video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = container.add_stream(codec, rate=SAMPLE_RATE)
        audio.layout = "mono"
        chunk = 1024
        for i in range(0, len(samples) - chunk, chunk):
            frame = av.AudioFrame.from_ndarray(samples[None, i:i + chunk], format="fltp", layout="mono")
            frame.sample_rate, frame.pts = SAMPLE_RATE, i
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
        if with_video:
            for _ in range(int(len(samples) / SAMPLE_RATE * 10)):
                for packet in video.encode(av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8),
                                                                      format="bgr24")):
                    container.mux(packet)
            for packet in video.encode():
                container.mux(packet)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def espeak_wav(tmp_path_factory) -> bytes:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "I cannot believe you did that to me! This is outrageous."],
                   check=True)
    return path.read_bytes()


@pytest.fixture(scope="module")
def speech_predictor():
    return SpeechPredictor.from_dir(MODELS)


class TestFormats:
    signal = syllables(2.0)

    @pytest.mark.parametrize("fmt, subtype", [("WAV", "PCM_16"), ("FLAC", None), ("OGG", "VORBIS"),
                                              ("MP3", "MPEG_LAYER_III")])
    def test_soundfile_formats(self, fmt, subtype):
        rate = 44_100 if fmt == "MP3" else SAMPLE_RATE  # MP3 at its usual rate, resampled on decoding
        audio = decode_audio(wav_bytes(syllables(2.0, rate=rate), rate, fmt, subtype), name=f"x.{fmt.lower()}")
        assert audio.samples.dtype == np.float32 and abs(audio.seconds - 2.0) < 0.15

    @pytest.mark.parametrize("fmt, codec, with_video", [("ipod", "aac", False), ("mp4", "aac", True),
                                                        ("matroska", "libopus", True), ("webm", "libopus", True)])
    def test_pyav_formats_and_video_sound_tracks(self, fmt, codec, with_video):
        audio = decode_audio(av_audio(self.signal, fmt=fmt, codec=codec, with_video=with_video), name="x")
        assert abs(audio.seconds - 2.0) < 0.2
        assert voiced_segments(audio.samples)

    def test_stereo_and_other_rates_become_16k_mono(self):
        stereo = np.stack([self.signal, self.signal], axis=1)
        audio = decode_audio(wav_bytes(stereo[::2], 8000))
        assert audio.samples.ndim == 1 and abs(audio.seconds - 2.0) < 0.05

    def test_decoded_piece_by_piece_as_if_whole(self):
        left, right = syllables(25.0, rate=8000), np.roll(syllables(25.0, rate=8000), 1000)
        audio = decode_audio(wav_bytes(np.stack([left, right], axis=1), 8000, subtype="FLOAT"))
        whole = soxr.resample((left + right) / 2, 8000, SAMPLE_RATE)
        assert len(audio.samples) == len(whole) and np.abs(audio.samples - whole).max() < 1e-6


class TestBadAudio:
    def test_not_audio_empty_truncated_short(self):
        with pytest.raises(UnsupportedMediaError, match="not an audio"):
            decode_audio(b"%PDF-1.4 not sound at all" * 40)
        with pytest.raises(InvalidInputError, match="got 0 bytes"):
            decode_audio(b"")
        flac = wav_bytes(syllables(2.0), fmt="FLAC")
        with pytest.raises(InvalidInputError):
            decode_audio(flac[:200])
        with pytest.raises(InvalidInputError, match="too short"):
            decode_audio(wav_bytes(syllables(0.01)))

    def test_a_two_hour_file_is_refused_from_its_header(self, tmp_path):
        path = tmp_path / "long.flac"
        with sf.SoundFile(path, "w", samplerate=8000, channels=1, format="FLAC") as f:
            for _ in range(120):
                f.write(np.zeros(8000 * 60, np.int16))
        assert path.stat().st_size < 1_000_000
        with pytest.raises(InvalidInputError, match="120.0 minutes is longer than the 20-minute limit"):
            decode_audio(path, max_seconds=20 * 60)

    def test_more_samples_than_the_longest_stereo_recording_are_refused_from_the_header(self):
        flac = wav_bytes(np.zeros((2 * 192_000, 8), np.float32), 192_000, "FLAC")  # 2 s, 8 channels at 192 kHz
        with pytest.raises(InvalidInputError, match="3,072,000 samples .* convert it to mono"):
            decode_audio(flac, max_seconds=10)
        assert decode_audio(wav_bytes(syllables(2.0, rate=48_000), 48_000, "FLAC"), max_seconds=10).seconds == 2.0

    def test_a_long_file_without_a_duration_is_refused_not_cut(self):
        opus = av_audio(syllables(3.0), fmt="matroska", codec="libopus")
        with pytest.raises(InvalidInputError, match="longer than"):
            decode_audio(opus, max_seconds=1)

    def test_a_video_without_sound(self, astronaut_bgr):
        from tests.integration.test_video import encode_clip

        with pytest.raises(UnsupportedMediaError, match="no sound track"):
            decode_audio(encode_clip([astronaut_bgr] * 3))

    def test_silence_and_noise_are_answers_not_guesses(self, speech_predictor):
        silent = analyze_audio(wav_bytes(np.zeros(SAMPLE_RATE * 2, np.float32)), speech_predictor)
        assert silent.overall is None and silent.reason.startswith("silence")
        hiss = analyze_audio(wav_bytes(np.random.default_rng(0).normal(0, 1e-4, SAMPLE_RATE * 2)
                                       .astype(np.float32)), speech_predictor)
        assert hiss.overall is None


class TestSegments:
    def test_speech_pause_speech(self):
        samples = np.concatenate([syllables(1.5), np.zeros(SAMPLE_RATE), syllables(2.0)])
        segments = voiced_segments(samples)
        assert len(segments) == 2
        assert segments[0].start_s < 0.2 and abs(segments[0].end_s - 1.5) < 0.2
        assert abs(segments[1].start_s - 2.5) < 0.2 and abs(segments[1].end_s - 4.5) < 0.2

    @pytest.mark.parametrize("length", [0, 1, 39, 160, 401, SAMPLE_RATE + 77])
    def test_frame_levels_are_librosas_rms(self, length):
        """The block-summed levels equal framing every window (librosa's centred RMS), whatever the length."""
        import librosa

        samples = np.random.default_rng(length).normal(0, 0.1, length).astype(np.float32)
        samples[length // 3: length // 2] = 0  # a stretch of silence among the noise
        reference = librosa.feature.rms(y=samples, frame_length=N_FFT, hop_length=HOP, center=True)[0]
        np.testing.assert_allclose(frame_energy_db(samples), 20 * np.log10(np.maximum(reference, 1e-6)), atol=1e-3)

    def test_long_speech_is_cut_into_pieces(self):
        segments = voiced_segments(syllables(14.0))
        assert len(segments) == 3 and all(s.seconds <= 6.0 for s in segments)


@needs_espeak
class TestModel:
    def test_espeak_speech_gets_segments_and_an_overall_result(self, espeak_wav, speech_predictor):
        analysis = analyze_audio(espeak_wav, speech_predictor, name="speech.wav")
        assert analysis.segments and analysis.overall is not None
        assert all(r.modality == "speech" and abs(sum(r.scores.values()) - 1) < 1e-4 for r in analysis.segments)
        assert analysis.segments[0].span[0] < analysis.segments[-1].span[1] <= analysis.audio.seconds + 0.01
        table = analysis.segment_table()
        assert list(table.columns[:4]) == ["segment", "start_s", "end_s", "label"]
        again = analyze_audio(espeak_wav, speech_predictor, name="speech.wav")
        assert again.overall.scores == analysis.overall.scores

    def test_cli(self, espeak_wav, tmp_path, capsys):
        path = tmp_path / "speech.wav"
        path.write_bytes(espeak_wav)
        assert main(["analyze", str(path), "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["modality"] == "speech" and data["segments"] and data["overall"]["label"]

    def test_evaluate_on_a_tiny_folder(self, espeak_wav, tmp_path, capsys):
        for label in ("angry", "happy", "contempt"):
            (tmp_path / "data" / label).mkdir(parents=True)
            (tmp_path / "data" / label / "a.wav").write_bytes(espeak_wav)
        (tmp_path / "data" / "sad").mkdir()
        (tmp_path / "data" / "sad" / "quiet.wav").write_bytes(wav_bytes(np.zeros(SAMPLE_RATE, np.float32)))
        out = tmp_path / "report.json"
        assert main(["evaluate", "speech", "--data", str(tmp_path / "data"), "--json", str(out)]) == 0
        report = json.loads(out.read_text())
        assert report["n"] == 2
        assert sorted(s["reason"] for s in report["skipped"]) == ["no speech found", "unknown label 'contempt'"]


class TestSpeakerCalibration:
    """The calibrated model through the CLI: a profile from other recordings of the speaker, never labels."""

    @staticmethod
    def mini_ravdess(root, actors=("21", "22"), codes=("01", "02", "03", "04", "05", "06", "07")):
        """RAVDESS-named files (made here: voice-like sounds, one voiced segment each), 7 per actor."""
        for a, actor in enumerate(actors):
            folder = root / "ravdess" / f"Actor_{actor}"
            folder.mkdir(parents=True)
            for k, code in enumerate(codes):
                samples = syllables(1.0 + 0.15 * k) * (0.5 + 0.4 * a)
                (folder / f"03-01-{code}-01-01-01-{actor}.wav").write_bytes(wav_bytes(samples))
        return root

    def test_analyze_with_recordings_to_calibrate_on(self, tmp_path, capsys):
        recordings = []
        for k in range(3):
            path = tmp_path / f"same-speaker-{k}.wav"
            path.write_bytes(wav_bytes(np.concatenate([syllables(1.2), np.zeros(8000, np.float32), syllables(1.0)])))
            recordings.append(str(path))
        target = tmp_path / "target.wav"
        target.write_bytes(wav_bytes(syllables(2.0)))
        assert main(["analyze", str(target), "--json", "--calibrate", *recordings]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["calibration"] == {"profile_segments": 6}
        assert "calibrated" in data["overall"]["model_id"] and data["overall"]["label"]

    def test_too_little_to_calibrate_on_and_calibrating_a_photo_are_clear_errors(self, tmp_path, capsys):
        short = tmp_path / "short.wav"
        short.write_bytes(wav_bytes(syllables(1.0)))
        assert main(["analyze", str(short), "--calibrate", str(short)]) == 2
        assert "1 voiced segment(s) found, at least 5" in capsys.readouterr().err
        photo = tmp_path / "photo.png"
        photo.write_bytes(b"\x89PNG")
        assert main(["analyze", str(photo), "--calibrate", str(short)]) == 2
        assert "--calibrate applies to speech" in capsys.readouterr().err

    def test_evaluate_a_corpus_calibrated_on_each_speakers_other_files(self, tmp_path, capsys):
        data = self.mini_ravdess(tmp_path / "speech")
        out = tmp_path / "report.json"
        assert main(["evaluate", "speech", "--corpus", "ravdess", "--speakers", "all", "--data", str(data),
                     "--calibrate", "5", "--json", str(out)]) == 0
        report = json.loads(out.read_text())
        assert report["n"] == 14 and not report["skipped"] and "calibrated" in report["model_id"]
        assert report["calibration"]["recordings"] == 5
        assert sum(map(sum, report["confusion"]["matrix"])) == 14

        # Three other files make three segments: too few for a profile, so every file is skipped, saying why.
        assert main(["evaluate", "speech", "--corpus", "ravdess", "--speakers", "all", "--data", str(data),
                     "--calibrate", "3", "--json", str(out)]) == 0
        report = json.loads(out.read_text())
        assert report["n"] == 0 and len(report["skipped"]) == 14
        assert "at least 5 are needed" in report["skipped"][0]["reason"]

    def test_calibrating_needs_speakers(self, tmp_path, capsys):
        (tmp_path / "angry").mkdir()
        assert main(["evaluate", "speech", "--data", str(tmp_path), "--calibrate", "all"]) == 2
        assert "--calibrate needs --corpus" in capsys.readouterr().err
