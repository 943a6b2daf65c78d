"""`make run` installs every program the code runs, and the demo can be made with nothing else.

The Makefile's RUN_PACKAGES (and the Docker image's apt line) must bring every program that
the code starts: found here by reading the code, as command lines written as lists (a program
followed by an option), names looked up with `shutil.which`, and settings that name a program.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.settings import Settings
from tests.support import PYTHON, REPO, child_env

CODE_FOLDERS = ("launcher", "services", "shared")


def run_packages() -> list[str]:
    found = re.search(r"^RUN_PACKAGES := (.+)$", (REPO / "Makefile").read_text(), re.M)
    assert found, "the Makefile names its RUN_PACKAGES"
    return found.group(1).split()


def package_programs(packages: list[str]) -> dict[str, Path]:
    """Every program the installed Debian packages bring, by name."""
    programs: dict[str, Path] = {}
    for package in packages:
        listed = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True,
                                check=True).stdout.split()
        for name in listed:
            path = Path(name)
            if path.parent.name == "bin" and path.is_file() and os.access(path, os.X_OK):
                programs[path.name] = path
    return programs


def programs_the_code_runs() -> dict[str, set[str]]:
    """Program name -> the files that run it."""
    found: dict[str, set[str]] = {}
    for folder in CODE_FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            for name in _programs_in(ast.parse(path.read_text())):
                found.setdefault(name, set()).add(str(path.relative_to(REPO)))
    for name, field in Settings.model_fields.items():
        if name.endswith("_path") and isinstance(field.default, str) and field.default:
            found.setdefault(field.default, set()).add(f"setting {name}")
    return found


def _programs_in(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.List | ast.Tuple) and len(node.elts) >= 2:
            first, second = node.elts[:2]
            if (_text(first) and _text(second).startswith("-")
                    and shutil.which(_text(first))):
                names.add(_text(first))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "which" and node.args and _text(node.args[0])):
            names.add(_text(node.args[0]))
    return names


def _text(node: ast.expr) -> str:
    ok = isinstance(node, ast.Constant) and isinstance(node.value, str) and " " not in node.value
    return str(node.value) if ok else ""  # type: ignore[attr-defined]


def test_run_packages_bring_every_program_the_code_runs() -> None:
    needed = programs_the_code_runs()
    assert {"ffmpeg", "ffprobe", "espeak-ng", "redis-server"} <= set(needed), needed
    brought = package_programs(run_packages())
    missing = {name: files for name, files in needed.items() if name not in brought}
    assert not missing, f"add their Debian packages to RUN_PACKAGES: {missing}"
    docker = (REPO / "Dockerfile").read_text()
    for package in run_packages():
        assert re.search(rf"apt-get install[^\n]*\b{re.escape(package)}\b", docker), package


@pytest.mark.timeout(180)
def test_the_demo_is_made_with_only_the_run_packages_programs(tmp_path: Path) -> None:
    only = tmp_path / "bin"
    only.mkdir()
    for name, path in package_programs(run_packages()).items():
        (only / name).symlink_to(path)
    code = ("import sys\nfrom pathlib import Path\nfrom launcher.demo_media import make_demo\n"
            "media = make_demo(Path(sys.argv[1]))\nprint(media.video)")
    done = subprocess.run([PYTHON, "-c", code, str(tmp_path / "demo")],
                          env=child_env(PATH=str(only)), capture_output=True, text=True,
                          timeout=170)
    assert done.returncode == 0, done.stderr[-2000:]
    video = Path(done.stdout.strip())
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type",
                            "-of", "csv=p=0", str(video)], capture_output=True, text=True,
                           check=True)
    assert sorted(probe.stdout.split()) == ["audio", "video"]
