"""The Grafana dashboard (deploy/grafana/clip-live.json) parses, is laid out sanely, and asks
only for metrics the API's /metrics serves, and for each of them."""

from __future__ import annotations

import json
import re
from typing import Any

from services.api.metrics import METRIC_NAMES
from tests.support import REPO

DASHBOARD = REPO / "deploy" / "grafana" / "clip-live.json"
HISTOGRAM_PARTS = ("_bucket", "_sum", "_count")
METRIC = re.compile(r"\bclip_live_[a-z0-9_]+")


def metric_names() -> tuple[str, ...]:
    """The names /metrics serves."""
    return METRIC_NAMES


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
