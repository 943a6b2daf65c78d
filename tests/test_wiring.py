"""One declaration per worker, and the rest agrees with it: the mesh's service list, each
service's entry point and code, the README and `clip-live graph`. Nothing under services/ or
shared/ imports the launcher."""

from __future__ import annotations

import ast
import importlib
import subprocess
from pathlib import Path
from typing import Any

from launcher.graph import graph_text, readme_block
from launcher.mesh import SERVICES as MESH_SERVICES
from services.wiring import SERVICES, WORKERS
from shared import streams
from shared.streams import Topic
from tests.support import PYTHON, REPO, child_env

START_ORDER = ("ingest", "audio_features", "motion", "asr", "semantic", "chat", "face", "fuser",
               "clipper", "vod", "api")


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for each import in the file; names is empty for `import x`."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def test_every_service_is_declared_once_and_run_in_start_order() -> None:
    assert [w.name for w in WORKERS] == list(SERVICES)
    assert SERVICES == START_ORDER
    assert MESH_SERVICES == SERVICES, "`clip-live run` starts the declared workers"
    packages = {p.parent.name for p in (REPO / "services").glob("*/__main__.py")}
    assert packages == set(SERVICES), "each services/<name>/ with a __main__ is declared"


def test_each_service_runs_under_its_own_declaration() -> None:
    for worker in WORKERS:
        folder = REPO / "services" / worker.name
        declared: Any = importlib.import_module(f"services.{worker.name}.worker")
        assert declared.WORKER is worker
        assert "main_entry(WORKER, " in (folder / "__main__.py").read_text()


def test_a_service_uses_no_topic_it_does_not_declare() -> None:
    for worker in WORKERS:
        declared = set(worker.reads + worker.writes + worker.looks)
        for path in _modules(REPO / "services" / worker.name):
            if path.name == "worker.py":
                continue
            used = {getattr(streams, name) for module, names in _imports(path)
                    if module == "shared.streams" for name in names
                    if isinstance(getattr(streams, name, None), Topic)}
            undeclared = sorted(t.name for t in used - declared)
            assert not undeclared, (f"{path.relative_to(REPO)} uses {undeclared}: declare them "
                                    f"in services/{worker.name}/worker.py")


def test_no_module_under_services_or_shared_imports_the_launcher() -> None:
    for folder, banned in (("services", ("launcher",)), ("shared", ("launcher", "services"))):
        for path in _modules(REPO / folder):
            bad = [m for m, _ in _imports(path) if m.split(".")[0] in banned]
            assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_readers_take_binary_parts_without_a_default() -> None:
    for folder in ("services", "shared"):
        for path in _modules(REPO / folder):
            assert "blobs.get(" not in path.read_text(), f"{path.relative_to(REPO)}"


def test_clip_live_graph_prints_the_wiring_the_readme_shows() -> None:
    done = subprocess.run([PYTHON, str(REPO / "clip_live.py"), "graph"], env=child_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == graph_text() + "\n"
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line}
    assert "ingest" in lines["audio"] and "asr (owner)" in lines["audio"]
    assert "[pcm]" in lines["audio"] and "[jpeg]" in lines["frames"]
    assert "ingest (group ingest-control)" in lines["control"]
    assert "clipper (group)" in lines["clip-requests"]
    readme = (REPO / "README.md").read_text()
    assert readme_block() in readme, "run `python -m launcher.graph` and paste it in"
