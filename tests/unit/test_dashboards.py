"""Every PromQL query of the dashboard and the rules parses and names metrics that exist."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path

import promql_parser
import yaml
from prometheus_client import REGISTRY

from civicloop.profiles import ROOT

GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
RULE_FILES = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
# Series Prometheus makes itself.
BUILT_IN = {"up", "ALERTS", "ALERTS_FOR_STATE"}
# Grafana's variables, replaced by something PromQL accepts before parsing.
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1d",
    "$township": ".*",
    "${datasource}": "prometheus",
}


def exposed_metrics() -> set[str]:
    """Sample names the services' processes expose (every metric module of every service)."""
    for module in ("services.common.metrics", "services.common.app", "services.common.worker"):
        importlib.import_module(module)
    for path in (ROOT / "services").glob("*/metrics.py"):
        importlib.import_module(f"services.{path.parent.name}.metrics")
    for path in (ROOT / "services").glob("*/usecases.py"):
        importlib.import_module(f"services.{path.parent.name}.usecases")
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("", "_sum", "_count", "_created"),
        "gauge": ("",),
        "info": ("_info",),
    }
    return {
        family.name + suffix for family in REGISTRY.collect() for suffix in suffixes.get(family.type, ("",))
    }


def recorded_series() -> set[str]:
    """Names the recording rules create."""
    return {
        rule["record"]
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def rule_exprs() -> Iterator[tuple[str, str]]:
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                yield rule.get("record") or rule["alert"], rule["expr"]


def _panels(panels: list[dict]) -> Iterator[dict]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_exprs(path: Path) -> Iterator[tuple[str, str]]:
    """(where, query) for every panel target and query variable of a dashboard."""
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    for panel in _panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            yield f"{panel['title']} / {target['refId']}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"]
            found = re.fullmatch(r"label_values\((.+),\s*\w+\)", query)
            assert found, f"unexpected variable query {query}"
            yield f"variable {variable['name']}", found.group(1)


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (parsing fails loudly on bad syntax)."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    names: set[str] = set()

    def visit(node: object) -> bool:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def rabbitmq_metrics_used() -> set[str]:
    """RabbitMQ's own metrics the dashboard uses (checked against a live broker in tests/e2e)."""
    return {
        name
        for path in DASHBOARDS
        for _where, expr in dashboard_exprs(path)
        for name in metric_names(expr)
        if name.startswith("rabbitmq_")
    }


def test_the_dashboard_json_is_what_its_builder_writes():
    spec = importlib.util.spec_from_file_location("build_dashboard", GRAFANA / "build_dashboard.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    assert [path.name for path in DASHBOARDS] == ["civicloop-county.json"]
    assert DASHBOARDS[0].read_text(encoding="utf-8") == builder.render()


def test_every_dashboard_query_names_metrics_that_exist():
    known = exposed_metrics() | recorded_series() | BUILT_IN
    checked = 0
    for path in DASHBOARDS:
        for where, expr in dashboard_exprs(path):
            names = metric_names(expr)
            assert names, f"{where}: selects no metric"
            unknown = {n for n in names if n not in known and not n.startswith("rabbitmq_")}
            assert not unknown, f"{path.name} {where}: unknown metrics {unknown} in {expr}"
            checked += 1
    assert checked >= 40
    assert rabbitmq_metrics_used() == {
        "rabbitmq_queue_messages_ready",
        "rabbitmq_queue_messages_unacked",
        "rabbitmq_connections",
    }


def test_every_rule_names_metrics_that_exist():
    known = exposed_metrics() | recorded_series() | BUILT_IN
    for name, expr in rule_exprs():
        unknown = metric_names(expr) - known
        assert not unknown, f"rule {name}: unknown metrics {unknown}"


def test_the_dashboard_covers_the_county_view_and_lays_out_on_the_grid():
    dashboard = json.loads(DASHBOARDS[0].read_text(encoding="utf-8"))
    panels = list(_panels(dashboard["panels"]))
    assert len({panel["id"] for panel in panels}) == len(panels)
    assert all(p["gridPos"]["x"] >= 0 and p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in panels)
    types = {panel["type"] for panel in panels}
    assert {"heatmap", "bargauge", "stat", "timeseries"} <= types
    used = {name for path in DASHBOARDS for _w, expr in dashboard_exprs(path) for name in metric_names(expr)}
    for needed in (
        "township:civicloop_response_rate:ratio_1d",
        "township:civicloop_resolution_rate:ratio_1d",
        "township:civicloop_satisfaction_rate:ratio_1d",
        "civicloop_request_transitions_total",
        "civicloop_stage_duration_seconds_bucket",
        "civicloop_volunteer_hours_total",
        "civicloop_outbox_backlog",
        "civicloop_dead_letters",
    ):
        assert needed in used, f"the dashboard does not show {needed}"


def test_a_bad_query_is_caught():
    try:
        metric_names("sum by (township (civicloop_offers_total)")
    except Exception:
        pass
    else:
        raise AssertionError("a broken query parsed")
    assert metric_names('sum(rate(a_total{x=~"$township"}[$__rate_interval])) / on() b:c:d') == {
        "a_total",
        "b:c:d",
    }


def test_provisioning_points_at_prometheus_and_the_dashboards():
    sources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (source,) = sources["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"]
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "civicloop.yml").read_text())
    (provider,) = providers["providers"]
    path = Path(provider["options"]["path"].replace("${CIVICLOOP_ROOT}", str(ROOT)))
    assert path == GRAFANA / "dashboards"
