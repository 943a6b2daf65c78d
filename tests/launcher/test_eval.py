"""`clip-live eval` as a user runs it, on data made here with known answers, and on the
team's dev data: real processes, real FFmpeg, the live services' own code."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import soundfile as sf
from scipy.signal import resample_poly

from launcher.eval.chat import EvalError, Found, Highlight, read_highlights, score
from tests.services.audio_features.voices import CALM, SHOUT, Voice, speak
from tests.support import PYTHON, REPO, child_env, dev_data

CLI = [PYTHON, str(REPO / "clip_live.py")]
WALL0 = 1_700_000_000


def eval_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "eval", *args], env=child_env(
        CLIP_LIVE_DATA_DIR=str(tmp_path / "data"), OPENBLAS_NUM_THREADS="1", **env),
        cwd=tmp_path, capture_output=True, text=True, timeout=300)


def headline(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    """The JSON the command prints before its `report:` line."""
    assert done.returncode == 0, done.stdout + done.stderr
    text, _, where = done.stdout.rpartition("report: ")
    assert "report.html" in where
    found: dict[str, object] = json.loads(text)
    return found


def make_voice_set(folder: Path) -> None:
    """Two speakers, a low and a high voice; each has calm clips and shouted ones. Saved as
    44.1 kHz FLAC, so FFmpeg must resample them as ingest would."""
    folder.mkdir()
    rows = []
    for speaker, shift in (("low", 1.0), ("high", 1.8)):
        for i in range(4):
            calm = Voice(**{**CALM.__dict__, "f0": CALM.f0 * shift})
            rows.append((f"{speaker}_calm{i}.flac", -0.6, speaker, speak(calm, 6, seed=i)))
        for i in range(3):
            shout = Voice(**{**SHOUT.__dict__, "f0": SHOUT.f0 * shift})
            rows.append((f"{speaker}_shout{i}.flac", 0.8, speaker, speak(shout, 3, seed=10 + i)))
    with (folder / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "score", "speaker"])
        for name, label, speaker, samples in rows:
            sf.write(folder / name, resample_poly(samples, 441, 160), 44_100)
            writer.writerow([name, label, speaker])


def test_eval_voice_separates_shouts_from_calm_talk_and_saves_an_offline_report(
    tmp_path: Path
) -> None:
    data = tmp_path / "voices"
    make_voice_set(data)
    out = tmp_path / "report"
    done = eval_cli(tmp_path, "voice", str(data), "--labels", str(data / "labels.csv"),
                    "--out", str(out), CLIP_LIVE_FUSER_WARMUP_S="10")
    found = headline(done)
    assert found["clips"] == 14 and found["calm"] == 8 and found["excited"] == 6
    assert found["arousal_auc"] == 1.0
    assert found["vote_on_calm_share"] == 0.0
    assert found["vote_on_excited_share"] == 1.0
    assert found["vote"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "confusion": {
        "true_yes": 6, "false_yes": 0, "false_no": 0, "true_no": 8}}
    saved = json.loads((out / "report.json").read_text())
    assert saved["arousal_auc"] == 1.0 and len(saved["files"]) == 14
    page = (out / "report.html").read_text()
    assert '<script src="plotly.min.js"></script>' in page  # the local copy, not a CDN
    assert "http://" not in page and "https://" not in page
    assert (out / "plotly.min.js").stat().st_size > 1_000_000


def test_eval_voice_on_the_dev_data_meets_the_review_bar(tmp_path: Path) -> None:
    """47 acted clips, continuous arousal labels, peak-normalised (see the data's README)."""
    folder = dev_data("voice", "speechEmotion")
    found = headline(eval_cli(tmp_path, "voice", str(folder), "--out", str(tmp_path / "r")))
    assert found["clips"] == 47
    auc = found["arousal_auc"]
    calm = found["vote_on_calm_share"]
    assert isinstance(auc, float) and auc >= 0.95
    assert isinstance(calm, float) and calm <= 0.1


def test_eval_of_a_kind_not_built_yet_says_so(tmp_path: Path) -> None:
    done = eval_cli(tmp_path, "clips", str(tmp_path))
    assert done.returncode == 2
    assert "eval clips is not built yet" in done.stderr


def test_eval_asr_scores_streaming_against_the_whole_file_on_the_dev_data(
        tmp_path: Path) -> None:
    """Read speech with its exact text: the streaming words are as good as one pass over each
    whole file (the review's bar: within 2 points)."""
    source = dev_data("asr")
    folder = tmp_path / "speech"
    folder.mkdir()
    for wav in sorted((source / "librivox").glob("*.wav")):
        shutil.copy(wav, folder / wav.name)
        shutil.copy(wav.with_suffix(".txt"), folder / wav.with_suffix(".txt").name)
    shutil.copy(source / "jfk.flac", folder / "jfk.flac")
    (folder / "jfk.txt").write_text("And so my fellow Americans, ask not what your country can "
                                    "do for you, ask what you can do for your country.")
    (folder / "no_text.wav").write_bytes((source / "librivox").glob("*.wav").__next__()
                                         .read_bytes())  # no .txt beside it: left out
    found = headline(eval_cli(tmp_path, "asr", str(folder), "--out", str(tmp_path / "out")))
    assert found["audio_files"] == 6 and found["words"] == 93
    stream, whole = found["wer_streaming"], found["wer_whole_file"]
    assert isinstance(stream, float) and isinstance(whole, float)
    assert stream <= whole + 0.02, found
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert {r["file"] for r in report["file_list"]} == {
        *(p.name for p in folder.glob("*.wav") if p.name != "no_text.wav"), "jfk.flac"}


def test_eval_asr_says_what_the_folder_lacks(tmp_path: Path) -> None:
    (tmp_path / "talk.wav").write_bytes(b"")
    done = eval_cli(tmp_path, "asr", str(tmp_path))
    assert done.returncode == 1
    assert "no audio file with its text beside it" in done.stderr


def test_eval_face_reads_labelled_photos_and_reports_votes(tmp_path: Path) -> None:
    from tests.services.face.photos import LABELLED, pyfeat_photo

    folder = tmp_path / "faces"
    folder.mkdir()
    for name in LABELLED:
        shutil.copy(pyfeat_photo(name), folder / name)
    (folder / "labels.csv").write_text("".join(f"{n},{label}\n" for n, label in LABELLED.items()))
    found = headline(eval_cli(tmp_path, "face", str(folder), "--out", str(tmp_path / "out")))
    assert found["pictures"] == len(LABELLED)
    assert found["faces_found"] == 1.0
    accuracy = found["accuracy"]
    assert isinstance(accuracy, float) and accuracy >= 0.5
    assert found["disgust_vote_share"] == 0.0, "a disgusted face never votes"
    assert "confusion" in json.loads((tmp_path / "out" / "report.json").read_text())


def test_eval_voice_names_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("gone.wav,0.5\n")
    done = eval_cli(tmp_path, "voice", str(tmp_path), "--labels", str(tmp_path / "labels.csv"))
    assert done.returncode == 1
    assert "gone.wav" in done.stderr


def test_chat_scores_count_hits_misses_and_the_strongest_ten() -> None:
    highlights = [Highlight(100, 110), Highlight(500, 520), Highlight(900, 905)]
    spikes = [Found(95, 9.0),  # before the first, within 15 s: a hit
              Found(124, 8.0),  # 14 s after its end: a hit (the same highlight)
              Found(300, 30.0),  # nowhere near: a miss, and the strongest
              Found(536, 2.0)]  # 16 s after the second: a miss
    found = score(spikes, highlights, tolerance=15.0, top_n=2)
    assert found["precision"] == 0.5  # 2 of 4 spikes hit
    assert found["recall"] == pytest.approx(1 / 3, abs=1e-4)  # 1 of 3 highlights found
    assert found["f1"] == pytest.approx(0.4, abs=1e-4)
    assert found["top_2_in_highlight"] == 1  # the strongest two: 300 (miss) and 95 (hit)
    assert found["strength_auc"] == 0.5


def test_highlight_times_read_as_seconds_clock_times_and_unix_times(tmp_path: Path) -> None:
    path = tmp_path / "h.txt"
    path.write_text(f"# the marked moments\n12 30\n1:02 1:10\n1:00:00 1:00:05\n"
                    f"{WALL0 + 5} {WALL0 + 9}\n")
    found = read_highlights(path)
    assert [(h.start, h.end, h.unix) for h in found] == [
        (12, 30, False), (62, 70, False), (3600, 3605, False),
        (WALL0 + 5, WALL0 + 9, True)]
    path.write_text("20 10\n")
    with pytest.raises(EvalError, match="start <= end"):
        read_highlights(path)


def test_eval_chat_finds_the_bursts_that_are_highlights(tmp_path: Path) -> None:
    """40 minutes of slow chat, and a big burst of hype at 600 s and 1800 s. Highlights: the
    moments just before those two, and one at 1200 s where chat stayed quiet."""
    lines = []
    for t in range(0, 2400, 4):
        lines.append(f"{WALL0 + t} viewer{t % 37}: just chatting {t}")
    for burst in (600, 1800):
        for i in range(120):
            lines.append(f"{WALL0 + burst + i * 0.1:.1f} fan{i}: POGGERS LETS GOOO")
    log = tmp_path / "chat.txt"
    log.write_text("\n".join(sorted(lines, key=lambda x: float(x.split()[0]))) + "\n")
    marks = tmp_path / "highlights.txt"
    marks.write_text("585 600\n1200 1210\n1785 1800\n")
    found = headline(eval_cli(tmp_path, "chat", str(log), "--highlights", str(marks),
                              "--out", str(tmp_path / "r")))
    assert found["recall_counts"] == {"found": 2, "missed": 1}
    assert found["precision"] == 1.0
    assert found["top_10_in_highlight"] == 2
    saved = json.loads((tmp_path / "r" / "report.json").read_text())
    assert [h["found"] for h in saved["highlight_list"]] == [True, False, True]
