"""The Grafana dashboard (deploy/grafana/clip-live.json) parses, is laid out sanely, and asks
only for metrics the API's /metrics serves, and for each of them."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from typing import Any

from tests.support import REPO

DASHBOARD = REPO / "deploy" / "grafana" / "clip-live.json"
FALLBACK_METRICS = (
    "clip_live_consumer_lag_messages",
    "clip_live_consumer_pending_messages",
    "clip_live_messages_handled_total",
    "clip_live_dead_letters_total",
    "clip_live_asr_lag_seconds",
    "clip_live_asr_dropped_audio_seconds_total",
    "clip_live_clips_total",
    "clip_live_clip_ready_latency_seconds",
    "clip_live_channels_owned",
    "clip_live_service_up",
)
"""The metrics the API serves, used only while services/api/metrics.py has no METRIC_NAMES."""
HISTOGRAM_PARTS = ("_bucket", "_sum", "_count")
METRIC = re.compile(r"\bclip_live_[a-z0-9_]+")


def metric_names() -> tuple[str, ...]:
    """The names /metrics serves: services/api/metrics.py's METRIC_NAMES where it exists."""
    if importlib.util.find_spec("services.api.metrics") is None:
        return FALLBACK_METRICS
    names: tuple[str, ...] = getattr(importlib.import_module("services.api.metrics"),
                                     "METRIC_NAMES", FALLBACK_METRICS)
    return names


def base_name(name: str, known: tuple[str, ...]) -> str:
    """A histogram's series (`x_bucket`, `x_sum`, `x_count`) are the metric `x`."""
    for part in HISTOGRAM_PARTS:
        if name.endswith(part) and name.removesuffix(part) in known:
            return name.removesuffix(part)
    return name


def queries(dashboard: dict[str, Any]) -> list[str]:
    found = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found.append(variable["definition"])
    return found


def test_dashboard_parses_and_is_laid_out() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "clip-live" and dashboard["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels) >= 8
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"] and panel["title"]
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24
        cells = {(x, y) for x in range(box["x"], box["x"] + box["w"])
                 for y in range(box["y"], box["y"] + box["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
        assert len({target["refId"] for target in panel["targets"]}) == len(panel["targets"])


def test_dashboard_uses_exactly_the_served_metrics() -> None:
    known = metric_names()
    dashboard = json.loads(DASHBOARD.read_text())
    used = {base_name(name, known) for expr in queries(dashboard)
            for name in METRIC.findall(expr)}
    assert used, "no metric found in the dashboard's queries"
    assert used <= set(known), f"not served by /metrics: {sorted(used - set(known))}"
    assert set(known) <= used, f"served but on no panel: {sorted(set(known) - used)}"
