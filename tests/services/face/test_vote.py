"""The face vote, through the live path (`evaluate_faces`), on labelled photos and plain numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from services.face.aggregate import excitement
from services.face.emotion import LABELS, fer_model
from services.face.evaluate import EvalError, calibrated_vote_line, evaluate_faces, judge
from services.fuser.rules import VoteRules
from services.fuser.signals import face as face_signal
from shared.contracts import FaceSecond
from shared.settings import Settings
from tests.services.face.photos import LABELLED, TURNED, TURNED_FACE, in_frame, pyfeat_photo, read

DEFAULT_LINE = Settings().vote_face_excitement


def second(**emotions: float) -> FaceSecond:
    full = {k: emotions.get(k, 0.0) for k in LABELS}
    return FaceSecond(channel="c", session="s", t=0.0, dur=1.0, wall=0.0, present=True,
                      emotions=full, dominant=max(full, key=lambda k: full[k]),
                      excitement=excitement(full))


def cast(*seconds: FaceSecond, line: float = DEFAULT_LINE) -> bool:
    raw = face_signal.summarize(list(seconds))
    return face_signal.votes(raw, {"face_excitement": raw["face_excitement"]},
                             VoteRules(face_excitement=line))


def disgust_variants(folder: Path) -> list[Path]:
    """The disgusted face (head turned 45 degrees) as it is, mirrored, and small in 480p
    frames (64, 100 and 160 px high), saved as JPEG like the worker's frames."""
    photo = read(TURNED)
    out = []
    for mirrored in (False, True):
        picture = np.ascontiguousarray(photo[:, ::-1]) if mirrored else photo
        pictures = [picture] + [in_frame(picture, size / TURNED_FACE[3], 500, 60)
                                for size in (64, 100, 160)]
        for n, p in enumerate(pictures):
            path = folder / f"disgust_{int(mirrored)}_{n}.jpg"
            cv2.imwrite(str(path), p)
            out.append(path)
    return out


def test_a_disgust_labelled_face_never_votes(tmp_path: Path) -> None:
    rules = VoteRules(face_excitement=DEFAULT_LINE)
    for path in disgust_variants(tmp_path):
        judged = judge(path, "disgust", fer_model(), rules)
        assert judged.found, path.name  # the face is seen (the vote is not just blind)
        assert not judged.votes, (path.name, judged.excitement, judged.emotions)
        assert judged.excitement < 0


def test_joy_and_surprise_vote() -> None:
    rules = VoteRules(face_excitement=DEFAULT_LINE)
    for name in ("0-f1-su-ph.jpg", "0-f15-hao-ph.jpg"):
        judged = judge(pyfeat_photo(name), LABELLED[name], fer_model(), rules)
        assert judged.votes and judged.excitement > 0.8, name


def test_anger_alone_never_reaches_the_vote_line() -> None:
    # The model calls most disgusted faces angry: anger alone must not vote.
    assert excitement({"angry": 1.0}) == 0.25 < DEFAULT_LINE
    assert not cast(second(angry=1.0))
    # A shout, read as anger with surprise, does.
    assert cast(second(angry=0.5, surprise=0.5))


def test_a_face_whose_main_emotion_is_disgust_never_votes() -> None:
    # Excitement 0.4 (joy, surprise and fear outweigh it), but disgust is the main emotion.
    grimace = second(disgust=0.3, happy=0.25, surprise=0.25, fear=0.2)
    assert grimace.excitement == pytest.approx(0.4)
    assert not cast(grimace, line=0.3)
    # The same mix with joy on top votes.
    assert cast(second(disgust=0.2, happy=0.35, surprise=0.25, fear=0.2), line=0.3)
    # No face: no vote; a face message without emotions goes by its excitement alone.
    assert not cast(FaceSecond(channel="c", session="s", t=0, dur=1, wall=0, present=False))
    assert cast(FaceSecond(channel="c", session="s", t=0, dur=1, wall=0, present=True,
                           excitement=0.9))


def test_evaluate_faces_reads_a_folder_and_scores_it(tmp_path: Path) -> None:
    for name in LABELLED:
        shutil.copy(pyfeat_photo(name), tmp_path / name)
    (tmp_path / "flat.png").write_bytes(cv2.imencode(".png", np.full((64, 64, 3), 90,
                                                                     np.uint8))[1].tobytes())
    spelled = {"surprise": "Surprised", "happy": "happiness", "angry": "anger",
               "disgust": "disgusted"}
    lines = ["file,label"] + [f"{n},{spelled[label]}" for n, label in LABELLED.items()]
    (tmp_path / "labels.csv").write_text("\n".join([*lines, "flat.png,sad", ""]))
    result = evaluate_faces(tmp_path, model=fer_model(), vote_line=DEFAULT_LINE)
    assert result["pictures"] == 5 and result["faces_found"] == 0.8
    # Surprise, joy and anger right; disgust read as sadness; the flat picture has no face.
    assert result["accuracy"] == 0.6
    assert result["confusion"]["angry"]["angry"] == 1
    assert result["confusion"]["sad"]["none"] == 1
    assert result["disgust_vote_share"] == 0.0
    assert result["vote_share"] == {"surprise": 1.0, "happy": 1.0, "angry": 0.0,
                                    "disgust": 0.0, "sad": 0.0}
    assert result["excitement_auc"] == 1.0
    # The same through (picture, label) pairs.
    pairs = [(tmp_path / n, label) for n, label in LABELLED.items()]
    assert evaluate_faces(pairs, model=fer_model(), vote_line=DEFAULT_LINE)["accuracy"] == 0.75


def test_bad_labelled_data_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match=r"labels\.csv does not exist"):
        evaluate_faces(tmp_path)
    (tmp_path / "labels.csv").write_text("a.jpg,happy\n")
    with pytest.raises(EvalError, match="no picture"):
        evaluate_faces(tmp_path)
    shutil.copy(pyfeat_photo("0-f1-su-ph.jpg"), tmp_path / "a.jpg")
    (tmp_path / "labels.csv").write_text("a.jpg,bored\n")
    with pytest.raises(EvalError, match="unknown emotion label 'bored'"):
        evaluate_faces(tmp_path)


def test_the_calibrated_line_lets_at_most_a_fifth_of_disgust_faces_vote(tmp_path: Path) -> None:
    # Plain numbers: five disgust faces, excitement 0.9, 0.5, 0.3, 0.1, -0.2; one may vote.
    from services.face.evaluate import Judged

    def made(label: str, value: float) -> Judged:
        return Judged(file="x", label=label, found=True, emotions={}, excitement=value,
                      calm=False, votes=False)

    judged = [made("disgust", v) for v in (0.9, 0.5, 0.3, 0.1, -0.2)]
    judged += [made("happy", 0.95), made("surprise", 0.45)]
    found = calibrated_vote_line(judged)
    assert found["line"] == pytest.approx(0.5001)
    assert found["excited_vote_share"] == 0.5
    assert calibrated_vote_line([made("happy", 0.9)])["line"] is None
