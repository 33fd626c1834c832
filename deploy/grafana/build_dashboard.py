"""Writes deploy/grafana/dashboards/civicloop-county.json: `python deploy/grafana/build_dashboard.py`.

The dashboard is generated so its panels stay uniform; edit this file, not the JSON, and run it again
(tests/unit/test_dashboards.py checks that the JSON is what this script writes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards" / "civicloop-county.json"
DS = {"type": "prometheus", "uid": "${datasource}"}
T = 'township=~"$township"'


def target(expr: str, legend: str = "", ref: str = "A", **extra: Any) -> dict[str, Any]:
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref, **extra}


class Layout:
    """Places panels left to right on a 24-column grid."""

    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self.x = 0
        self.y = 0
        self.row_height = 0

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append(
            {
                "type": "row",
                "title": title,
                "collapsed": False,
                "id": len(self.panels) + 1,
                "panels": [],
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
            }
        )
        self.y += 1

    def _newline(self) -> None:
        self.y += self.row_height
        self.x = 0
        self.row_height = 0

    def add(self, width: int, height: int, panel: dict[str, Any]) -> None:
        if self.x + width > 24:
            self._newline()
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"h": height, "w": width, "x": self.x, "y": self.y}
        panel.setdefault("datasource", DS)
        self.panels.append(panel)
        self.x += width
        self.row_height = max(self.row_height, height)


def stat(title: str, expr: str, unit: str = "percentunit", description: str = "") -> dict[str, Any]:
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "targets": [target(expr)],
        "fieldConfig": {"defaults": {"unit": unit, "decimals": 1}, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value"},
    }


def ranked(title: str, expr: str, description: str) -> dict[str, Any]:
    return {
        "type": "bargauge",
        "title": title,
        "description": description,
        "targets": [target(f"sort_desc({expr})", "{{township}}", instant=True)],
        "fieldConfig": {
            "defaults": {
                "unit": "percentunit",
                "min": 0,
                "max": 1,
                "thresholds": {
                    "mode": "absolute",
                    "steps": [
                        {"color": "red", "value": None},
                        {"color": "orange", "value": 0.8},
                        {"color": "green", "value": 0.9},
                    ],
                },
            },
            "overrides": [],
        },
        "options": {
            "orientation": "horizontal",
            "displayMode": "gradient",
            "reduceOptions": {"calcs": ["lastNotNull"]},
        },
    }


def timeseries(title: str, targets: list[dict[str, Any]], unit: str = "short", stack: bool = False) -> dict:
    return {
        "type": "timeseries",
        "title": title,
        "targets": targets,
        "fieldConfig": {
            "defaults": {"unit": unit, "custom": {"stacking": {"mode": "normal" if stack else "none"}}},
            "overrides": [],
        },
    }


def heatmap(interval: str) -> dict[str, Any]:
    expr = (
        f'sum by (le) (increase(civicloop_stage_duration_seconds_bucket{{interval="{interval}",{T}}}'
        "[$__rate_interval]))"
    )
    return {
        "type": "heatmap",
        "title": f"Stage latency: {interval.replace('_', ' ')}",
        "targets": [target(expr, "{{le}}", format="heatmap")],
        "options": {"calculate": False, "yAxis": {"unit": "s"}, "cellGap": 1},
    }


def build() -> dict[str, Any]:
    layout = Layout()
    layout.row("The three rates (county)")
    layout.add(
        8,
        5,
        stat(
            "Response rate 响应率",
            ":civicloop_response_rate:ratio",
            description="offers accepted within their deadline / offers, since the processes started",
        ),
    )
    layout.add(
        8,
        5,
        stat(
            "Resolution rate 办结率", ":civicloop_resolution_rate:ratio", description="completed / submitted"
        ),
    )
    layout.add(
        8,
        5,
        stat(
            "Satisfaction rate 满意率",
            ":civicloop_satisfaction_rate:ratio",
            description="ratings of 4 or 5 / ratings",
        ),
    )

    layout.row("Townships ranked (last day)")
    layout.add(
        8,
        12,
        ranked(
            "Response rate by township",
            "township:civicloop_response_rate:ratio_1d",
            "offers answered in time, last 24 h",
        ),
    )
    layout.add(
        8,
        12,
        ranked(
            "Resolution rate by township",
            "township:civicloop_resolution_rate:ratio_1d",
            "completed / submitted, last 24 h",
        ),
    )
    layout.add(
        8,
        12,
        ranked(
            "Satisfaction rate by township",
            "township:civicloop_satisfaction_rate:ratio_1d",
            "ratings of 4-5 / ratings, last 24 h",
        ),
    )

    layout.row("The loop")
    funnel = {
        "type": "bargauge",
        "title": "Funnel: requests reaching each stage (in the time range)",
        "targets": [
            target(
                "sum by (stage) (increase(civicloop_request_transitions_total"
                f'{{{T}, stage="{stage}"}}[$__range]))',
                stage,
                ref=chr(ord("A") + index),
                instant=True,
            )
            for index, stage in enumerate(
                ("submitted", "dispatched", "accepted", "in_service", "completed", "rated", "closed")
            )
        ],
        "options": {
            "orientation": "horizontal",
            "displayMode": "basic",
            "reduceOptions": {"calcs": ["lastNotNull"]},
        },
        "fieldConfig": {"defaults": {"unit": "short", "decimals": 0}, "overrides": []},
    }
    layout.add(12, 10, funnel)
    layout.add(
        12,
        10,
        timeseries(
            "Open requests by stage",
            [target(f"sum by (stage) (civicloop_open_requests{{{T}}})", "{{stage}}")],
            stack=True,
        ),
    )
    layout.add(
        12,
        8,
        timeseries(
            "Offers and offers accepted in time (per hour)",
            [
                target(f"sum(increase(civicloop_offers_total{{{T}}}[1h]))", "offers"),
                target(
                    f"sum(increase(civicloop_offers_accepted_in_time_total{{{T}}}[1h]))",
                    "accepted in time",
                    "B",
                ),
                target(f"sum(civicloop_offers_overdue{{{T}}})", "overdue now", "C"),
            ],
        ),
    )
    layout.add(
        12,
        8,
        timeseries(
            "Ratings by score (per hour)",
            [target(f"sum by (score) (increase(civicloop_ratings_total{{{T}}}[1h]))", "{{score}} ★")],
            stack=True,
        ),
    )

    layout.row("Stage latency")
    for interval in ("submit_to_dispatch", "dispatch_to_accept", "accept_to_complete", "complete_to_rating"):
        layout.add(12, 8, heatmap(interval))
    layout.add(
        24,
        8,
        timeseries(
            "Stage latency p50 / p90 (last day, county)",
            [
                target("interval:civicloop_stage_duration_seconds:p50_1d", "p50 {{interval}}"),
                target("interval:civicloop_stage_duration_seconds:p90_1d", "p90 {{interval}}", "B"),
            ],
            unit="s",
        ),
    )

    layout.row("Volunteers and people served")
    layout.add(
        8,
        8,
        timeseries(
            "Volunteer hours by township (per day)",
            [
                target(
                    f"sum by (township) (increase(civicloop_volunteer_hours_total{{{T}}}[1d]))",
                    "{{township}}",
                )
            ],
            unit="h",
            stack=True,
        ),
    )
    layout.add(
        8,
        8,
        timeseries(
            "Participations 人次 and people served 人次 (per day)",
            [
                target(
                    f"sum(increase(civicloop_volunteer_participations_total{{{T}}}[1d]))", "participations"
                ),
                target(f"sum(increase(civicloop_people_served_total{{{T}}}[1d]))", "people served", "B"),
                target(
                    f'sum(increase(civicloop_people_served_total{{{T}, category="policy_lecture"}}[1d]))',
                    "lecture audience",
                    "C",
                ),
            ],
        ),
    )
    layout.add(
        8,
        8,
        {
            "type": "bargauge",
            "title": "Patrol reports by resolution tier",
            "targets": [
                target(f"sum by (tier) (civicloop_patrol_reports_stored{{{T}}})", "{{tier}}", instant=True)
            ],
            "options": {"orientation": "horizontal", "reduceOptions": {"calcs": ["lastNotNull"]}},
            "fieldConfig": {"defaults": {"unit": "short"}, "overrides": []},
        },
    )

    layout.row("Bus and processes")
    layout.add(
        8,
        8,
        timeseries(
            "Events published per second",
            [
                target(
                    "sum by (service) (rate(civicloop_events_published_total[$__rate_interval]))",
                    "{{service}}",
                )
            ],
        ),
    )
    layout.add(
        8,
        8,
        timeseries(
            "Events consumed per second, by outcome",
            [
                target(
                    "sum by (service, outcome) (rate(civicloop_events_consumed_total[$__rate_interval]))",
                    "{{service}} {{outcome}}",
                )
            ],
        ),
    )
    layout.add(
        8,
        8,
        timeseries(
            "Handler time p95",
            [
                target(
                    "histogram_quantile(0.95, sum by (service, le) "
                    "(rate(civicloop_event_handler_seconds_bucket[$__rate_interval])))",
                    "{{service}}",
                )
            ],
            unit="s",
        ),
    )
    layout.add(
        8,
        8,
        timeseries(
            "Outbox backlog and oldest event",
            [
                target("max by (service) (civicloop_outbox_backlog)", "{{service}} documents"),
                target(
                    "max by (service) (civicloop_outbox_oldest_event_age_seconds)",
                    "{{service}} oldest (s)",
                    "B",
                ),
            ],
        ),
    )
    layout.add(
        8, 8, timeseries("Dead letters", [target("max by (service) (civicloop_dead_letters)", "{{service}}")])
    )
    layout.add(
        8,
        8,
        timeseries(
            "RabbitMQ: messages ready and unacknowledged",
            [
                target("sum(rabbitmq_queue_messages_ready)", "ready"),
                target("sum(rabbitmq_queue_messages_unacked)", "unacked", "B"),
                target("sum(rabbitmq_connections)", "connections", "C"),
            ],
        ),
    )
    layout.add(
        8,
        8,
        timeseries(
            "HTTP requests per second by status",
            [
                target(
                    "sum by (service, status) (rate(civicloop_http_requests_total[$__rate_interval]))",
                    "{{service}} {{status}}",
                )
            ],
        ),
    )
    layout.add(
        8,
        8,
        timeseries(
            "HTTP latency p95",
            [
                target(
                    "histogram_quantile(0.95, sum by (service, le) "
                    "(rate(civicloop_http_request_duration_seconds_bucket[$__rate_interval])))",
                    "{{service}}",
                )
            ],
            unit="s",
        ),
    )
    layout.add(
        8,
        8,
        {
            "type": "table",
            "title": "Processes up / dependencies / firing alerts",
            "targets": [
                target("up", "{{process}}", instant=True),
                target(
                    "min by (service, dependency) (civicloop_dependency_up)",
                    "{{service}} {{dependency}}",
                    "B",
                    instant=True,
                ),
                target('ALERTS{alertstate="firing"}', "{{alertname}}", "C", instant=True),
            ],
        },
    )

    return {
        "uid": "civicloop-county",
        "title": "civicloop — 古田县 county rollout",
        "description": "Order → dispatch → accept → rate, per township: the three rates, the funnel, "
        "stage latency, volunteers and the bus.",
        "tags": ["civicloop"],
        "timezone": "Asia/Shanghai",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-24h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                    "current": {},
                    "hide": 0,
                },
                {
                    "name": "township",
                    "label": "乡镇 township",
                    "type": "query",
                    "datasource": DS,
                    "query": {
                        "query": "label_values(civicloop_request_transitions_total, township)",
                        "refId": "township",
                    },
                    "definition": "label_values(civicloop_request_transitions_total, township)",
                    "includeAll": True,
                    "multi": True,
                    "allValue": ".*",
                    "current": {"text": "All", "value": "$__all"},
                    "refresh": 2,
                    "sort": 1,
                },
            ]
        },
        "annotations": {"list": []},
        "panels": layout.panels,
    }


def render() -> str:
    """The dashboard JSON as committed."""
    return json.dumps(build(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")
