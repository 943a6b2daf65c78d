"""How well the face worker reads emotions and casts the face vote, on labelled face photos.

Input: a folder of pictures (anything OpenCV reads: JPEG, PNG, ...) and a CSV of lines
`file,label`: the file name inside the folder and the emotion the face shows. The CSV is
`labels.csv` in the folder unless named. A first line `file,label` (a header) is skipped.
Labels are the six basic emotions (angry, disgust, fear, happy, sad, surprise), neutral and
contempt; common spellings (anger, disgusted, happiness, ...) are understood.

Each picture goes through exactly the live path: the JPEG (or PNG) bytes decoded as the
worker decodes a frame, faces found and read by `analyse_picture` with the model the
`face_backend` setting picks, the largest face summed up as one second (`summarise`, which
gives the excitement), and the face vote cast by the fuser's own face signal with the
`vote_face_excitement` line. Only what the worker would see of a stream is missing: a
picture is one frame, and one frame is one second.

What comes back (plain numbers, ready for JSON):

- `accuracy`: 6-class accuracy over the faces labelled with one of the six basic emotions:
  the emotion (of those six) with the highest probability is the guess; a picture with no
  face found counts as wrong. `confusion`: label -> guess -> count ("none": no face).
- `accuracy_7`: the same with neutral as a seventh class (None without neutral labels).
- `vote_share`: label -> share of its pictures that cast the face vote; `disgust_vote_share`
  is the one the vote must keep low.
- `excitement_auc`: how well the excitement tells joy and surprise from sadness, disgust and
  contempt (ROC AUC; 0.5 is a coin).
- `calibrated_vote_line`: the lowest vote line at which at most `max_share` (20%) of the
  disgust and contempt faces vote, with the share of joy and surprise faces that still vote
  there: how to set `vote_face_excitement` for your own faces.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.metrics import roc_auc_score

from services.face.aggregate import FrameFaces, summarise
from services.face.analyse import FrameError, analyse_picture, decode_jpeg
from services.face.backends import EmotionModel, choose_model
from services.fuser.rules import VoteRules
from services.fuser.signals import face as face_signal
from shared.contracts import FaceSecond

SIX = ("angry", "disgust", "fear", "happy", "sad", "surprise")
"""The six basic emotions that `accuracy` is over."""
KNOWN = (*SIX, "neutral", "contempt")
SPELLINGS = {
    "anger": "angry", "mad": "angry", "disgusted": "disgust", "fearful": "fear",
    "afraid": "fear", "scared": "fear", "happiness": "happy", "joy": "happy",
    "sadness": "sad", "surprised": "surprise", "calm": "neutral", "contemptuous": "contempt",
}
EXCITED_LABELS = ("happy", "surprise")
NOT_EXCITED_LABELS = ("sad", "disgust", "contempt")
NEVER_VOTE_LABELS = ("disgust", "contempt")
MAX_SHARE = 0.2
"""At most this share of disgust and contempt faces may vote (see `calibrated_vote_line`)."""
SESSION = "eval"


class EvalError(Exception):
    """The labelled data cannot be read. The message says why."""


@dataclass(frozen=True)
class Judged:
    """One picture after the live path."""

    file: str
    label: str
    found: bool
    emotions: dict[str, float]
    excitement: float
    calm: bool  # its main emotion is one that never votes
    votes: bool


def normal_label(text: str) -> str:
    """A label in the project's spelling (angry, disgust, ...). Raises EvalError for others."""
    word = text.strip().lower()
    word = SPELLINGS.get(word, word)
    if word not in KNOWN:
        raise EvalError(f"unknown emotion label {text!r}; use one of {', '.join(KNOWN)}")
    return word


def read_labels(folder: Path, labels: Path | None = None) -> list[tuple[Path, str]]:
    """The (picture, label) pairs that a folder's CSV names. Raises EvalError when the CSV
    or a picture it names is missing."""
    csv_path = labels or folder / "labels.csv"
    if not csv_path.is_file():
        raise EvalError(f"no labels: {csv_path} does not exist (lines `file,label`)")
    pairs = []
    with csv_path.open(newline="", encoding="utf-8") as handle:
        for n, row in enumerate(csv.reader(handle)):
            if not row or not "".join(row).strip():
                continue
            if n == 0 and [c.strip().lower() for c in row[:2]] == ["file", "label"]:
                continue
            if len(row) < 2:
                raise EvalError(f"{csv_path} line {n + 1}: want `file,label`, got {row!r}")
            picture = folder / row[0].strip()
            if not picture.is_file():
                raise EvalError(f"{csv_path} line {n + 1}: no picture {picture}")
            pairs.append((picture, normal_label(row[1])))
    if not pairs:
        raise EvalError(f"{csv_path} names no pictures")
    return pairs


def judge(picture: Path, label: str, model: EmotionModel, rules: VoteRules) -> Judged:
    """One picture through the worker's and the fuser's code (see the module notes)."""
    try:
        faces = analyse_picture(decode_jpeg(picture.read_bytes()), model)
    except FrameError:
        faces = []
    main = faces[0].emotions if faces else None
    summary = summarise(SESSION, 0, [FrameFaces(SESSION, 0.0, 0.0, main)])
    second = FaceSecond(channel=SESSION, session=SESSION, t=0.0, dur=1.0, wall=0.0,
                        present=summary.present, emotions=summary.emotions,
                        dominant=summary.dominant, excitement=summary.excitement)
    raw = face_signal.summarize([second])
    features = {f.name: raw.get(f.raw) for f in face_signal.SIGNAL.features}
    return Judged(file=picture.name, label=label, found=bool(faces), emotions=summary.emotions,
                  excitement=summary.excitement, calm=raw.get("face_calm") == 1.0,
                  votes=face_signal.votes(raw, features, rules))


def guess(emotions: dict[str, float], classes: Sequence[str]) -> str:
    """The class with the highest probability; 'none' without a face."""
    if not emotions:
        return "none"
    return max(classes, key=lambda k: emotions.get(k, 0.0))


def accuracy(judged: Sequence[Judged], classes: Sequence[str]) -> tuple[float | None,
                                                                       dict[str, dict[str, int]]]:
    """Accuracy over the pictures labelled with one of `classes`, and the confusion matrix."""
    matrix = {label: dict.fromkeys([*classes, "none"], 0) for label in classes}
    for j in judged:
        if j.label in matrix:
            matrix[j.label][guess(j.emotions, classes)] += 1
    total = sum(sum(row.values()) for row in matrix.values())
    right = sum(matrix[label][label] for label in classes)
    return (round(right / total, 4) if total else None), matrix


def calibrated_vote_line(judged: Sequence[Judged],
                         max_share: float = MAX_SHARE) -> dict[str, float | None]:
    """The lowest vote line at which at most `max_share` of the disgust and contempt faces
    vote, and the share of joy and surprise faces that vote at that line (None: no such
    faces). A face whose main emotion never votes stays out of the count of voters."""
    bad = [j for j in judged if j.label in NEVER_VOTE_LABELS]
    good = [j for j in judged if j.label in EXCITED_LABELS]
    if not bad:
        return {"line": None, "excited_vote_share": None}
    can_vote = sorted((j.excitement for j in bad if j.found and not j.calm), reverse=True)
    allowed = math.floor(max_share * len(bad) + 1e-9)
    line = -1.0 if len(can_vote) <= allowed else round(can_vote[allowed] + 1e-4, 4)
    voting = [j.found and not j.calm and j.excitement >= line for j in good]
    return {"line": line,
            "excited_vote_share": round(sum(voting) / len(voting), 4) if voting else None}


def excitement_auc(judged: Sequence[Judged]) -> float | None:
    """ROC AUC of the excitement: joy and surprise against sadness, disgust and contempt."""
    pairs = [(j.label in EXCITED_LABELS, j.excitement) for j in judged
             if j.label in EXCITED_LABELS + NOT_EXCITED_LABELS]
    if len({truth for truth, _ in pairs}) < 2:
        return None
    return round(float(roc_auc_score([t for t, _ in pairs], [s for _, s in pairs])), 4)


def evaluate_faces(data: Path | str | Iterable[tuple[Path | str, str]],
                   labels: Path | None = None, model: EmotionModel | None = None,
                   vote_line: float | None = None) -> dict[str, Any]:
    """Score the face worker on labelled pictures: a folder (with `labels.csv`, or `labels`)
    or (picture, label) pairs. `model` and `vote_line` default to what the settings pick for
    the live worker (`face_backend`, `vote_face_excitement`). See the module notes."""
    if isinstance(data, str | Path):
        folder = Path(data)
        if not folder.is_dir():
            raise EvalError(f"no folder {folder}")
        pairs = read_labels(folder, labels)
    else:
        pairs = [(Path(p), normal_label(label)) for p, label in data]
    if model is None or vote_line is None:
        from shared.settings import load_settings

        settings = load_settings()
        model = model or choose_model(settings.face_backend)
        vote_line = settings.vote_face_excitement if vote_line is None else vote_line
    rules = VoteRules(face_excitement=vote_line)
    judged = [judge(picture, label, model, rules) for picture, label in pairs]
    six, confusion = accuracy(judged, SIX)
    seven = (accuracy(judged, (*SIX, "neutral"))[0]
             if any(j.label == "neutral" for j in judged) else None)
    by_label: dict[str, list[Judged]] = {}
    for j in judged:
        by_label.setdefault(j.label, []).append(j)
    vote_share = {k: round(sum(j.votes for j in v) / len(v), 4) for k, v in by_label.items()}
    return {
        "kind": "face", "model": model.name, "vote_line": vote_line, "pictures": len(judged),
        "faces_found": round(sum(j.found for j in judged) / len(judged), 4),
        "accuracy": six, "accuracy_7": seven, "confusion": confusion,
        "vote_share": vote_share, "disgust_vote_share": vote_share.get("disgust"),
        "mean_excitement": {k: round(sum(j.excitement for j in v) / len(v), 4)
                            for k, v in by_label.items()},
        "excitement_auc": excitement_auc(judged),
        "calibrated_vote_line": calibrated_vote_line(judged),
        "pictures_judged": [{"file": j.file, "label": j.label, "found": j.found,
                             "guess": guess(j.emotions, SIX),
                             "excitement": round(j.excitement, 4), "votes": j.votes}
                            for j in judged],
    }
