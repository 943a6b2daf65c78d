"""The per-second log on disk: `events.csv` (the brief's columns, exactly) and `features.csv`
(every model feature, for retraining). One folder per channel and session:
`<data_dir>/events/<channel>/<session>/`. `time` is the stream time of the second; an empty
cell means the signal was missing."""

from __future__ import annotations

import csv
from pathlib import Path

from services.fuser.features import FEATURES
from shared.contracts import EventRow, check_channel

EVENT_COLUMNS = ("time", "loud_db", "pitch_var", "motion_avg", "sentiment", "excited_prob",
                 "clip_flag")
FEATURE_COLUMNS = ("time", *FEATURES)


def session_dir(data_dir: Path, channel: str, session: str) -> Path:
    return data_dir / "events" / check_channel(channel) / session


def _cell(value: float | bool | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return f"{value:g}"


def event_cells(row: EventRow) -> list[str]:
    return [_cell(v) for v in (row.t, row.loud_db, row.pitch_var, row.motion_avg, row.sentiment,
                               row.excited_prob, row.clip_flag)]


def feature_cells(row: EventRow) -> list[str]:
    return [_cell(row.t), *(_cell(row.features.get(name)) for name in FEATURES)]


def append_rows(data_dir: Path, rows: list[EventRow]) -> None:
    """Add rows to their session's files, writing the header first when a file is new."""
    for row in rows:
        folder = session_dir(data_dir, row.channel, row.session or "unknown")
        folder.mkdir(parents=True, exist_ok=True)
        for name, header, cells in (("events.csv", EVENT_COLUMNS, event_cells(row)),
                                    ("features.csv", FEATURE_COLUMNS, feature_cells(row))):
            path = folder / name
            new = not path.exists()
            with path.open("a", newline="") as handle:
                writer = csv.writer(handle)
                if new:
                    writer.writerow(header)
                writer.writerow(cells)
