"""The per-second log on disk: `events.csv` (fixed columns, the same for every stream) and
`features.csv` (every model feature, for retraining). One folder per channel and session:
`<data_dir>/events/<channel>/<session>/`. `time` is the stream time of the second; an empty
cell means the signal was missing. `features.csv` also has `wall`, the Unix time of the second,
so that a chat log (Unix times) can be put on the stream clock; older files lack it."""

from __future__ import annotations

import csv
from pathlib import Path

from services.fuser.signals import feature_names
from shared.contracts import EventRow, check_channel

EVENT_COLUMNS = ("time", "loud_db", "pitch_var", "motion_avg", "sentiment", "excited_prob",
                 "clip_flag")


def feature_columns() -> tuple[str, ...]:
    """The columns of a new `features.csv`: time, wall, then every feature the fuser makes."""
    return ("time", "wall", *feature_names())


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


def feature_cells(row: EventRow, columns: tuple[str, ...]) -> list[str]:
    """The cells of one row, by column name (an older file may have no `wall` column)."""
    times = {"time": f"{row.t:g}", "wall": f"{row.wall:.3f}"}
    return [times.get(name) or _cell(row.features.get(name)) for name in columns]


def append_rows(data_dir: Path, rows: list[EventRow]) -> None:
    """Add rows to their session's files, writing the header first when a file is new. A
    row for a second the file already holds is skipped: a fuser that goes on after a crash
    may write a row again. A `features.csv` keeps the columns it began with (a signal added
    mid-session waits for the next session's file), so every line matches its header."""
    written: dict[Path, float] = {}  # the last time in each file, read once per call
    for row in rows:
        folder = session_dir(data_dir, row.channel, row.session or "unknown")
        if folder not in written:
            folder.mkdir(parents=True, exist_ok=True)
            written[folder] = _last_time(folder / "events.csv")
        if row.t <= written[folder]:
            continue
        written[folder] = row.t
        _append(folder / "events.csv", EVENT_COLUMNS, event_cells(row))
        features = folder / "features.csv"
        columns = _header_of(features) or feature_columns()
        _append(features, columns, feature_cells(row, columns))


def _last_time(path: Path) -> float:
    """The time of the last row in an events file (-1 when it has none)."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, 2) - 512))
            last = handle.read().decode(errors="replace").strip().splitlines()[-1]
        return float(last.split(",", 1)[0])
    except (OSError, IndexError, ValueError):
        return -1.0


def _header_of(path: Path) -> tuple[str, ...] | None:
    try:
        with path.open(newline="") as handle:
            return tuple(next(csv.reader(handle), ())) or None
    except FileNotFoundError:
        return None


def _append(path: Path, header: tuple[str, ...], cells: list[str]) -> None:
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(header)
        writer.writerow(cells)
