"""`clip-live eval face FOLDER`: how well the face worker reads emotions and how its vote
behaves, on labelled pictures.

Input: FOLDER holds pictures and a `labels.csv` (`file,label`; labels such as happy,
surprise, angry, sad, disgust, fear, neutral, contempt; common spellings are understood), or
`--labels` names that CSV. Each picture goes through the live worker's code and the fuser's
face vote: see `services/face/evaluate.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from launcher.eval.voice import EvalError
from shared.settings import Settings


def evaluate(folder: Path, labels: Path | None, settings: Settings) -> dict[str, Any]:
    """Accuracy over six emotions, the confusion matrix, and how often each label votes."""
    from services.face import evaluate as faces
    from services.face.backends import choose_model

    try:
        return faces.evaluate_faces(folder, labels, model=choose_model(settings.face_backend),
                                    vote_line=settings.vote_face_excitement)
    except faces.EvalError as problem:
        raise EvalError(str(problem)) from None
