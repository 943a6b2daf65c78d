"""Writing a file so that a reader, or a crash, never leaves half of it."""

from __future__ import annotations

import os
from pathlib import Path


def write_text(path: Path, text: str) -> None:
    """Write a file so that readers see either nothing or all of it: the text goes to a hidden
    `.<name>.part` beside it first, then takes the file's name in one step."""
    part = path.with_name(f".{path.name}.part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)
