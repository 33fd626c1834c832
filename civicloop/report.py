"""`civicloop report`: the county report from GET /api/v1/stats/rollout, as a table and a chart."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import requests

from civicloop.profiles import Profile, profile_option
from services.common.auth import issue_token

# Township labels for a chart drawn without a font that has Chinese glyphs.
PINYIN = {
    "城东街道": "Chengdong",
    "城西街道": "Chengxi",
    "平湖镇": "Pinghu",
    "大桥镇": "Daqiao",
    "黄田镇": "Huangtian",
    "鹤塘镇": "Hetang",
    "杉洋镇": "Shanyang",
    "凤都镇": "Fengdu",
    "水口镇": "Shuikou",
    "大甲镇": "Dajia",
    "吉巷乡": "Jixiang",
    "泮洋乡": "Panyang",
    "凤埔乡": "Fengpu",
    "卓洋乡": "Zhuoyang",
}
CJK_FONTS = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "SimHei")
RATES = ("response", "resolution", "satisfaction")


def fetch(
    gateway: str, token: str, start: str | None, end: str | None, township: str | None
) -> dict[str, Any]:
    """The report from the gateway; a problem+json answer becomes a readable error."""
    params = {key: value for key, value in (("from", start), ("to", end), ("township", township)) if value}
    response = requests.get(
        f"{gateway.rstrip('/')}/api/v1/stats/rollout",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    if not response.ok:
        try:
            detail = response.json().get("detail") or response.text
        except ValueError:
            detail = response.text
        raise RuntimeError(f"{response.status_code}: {detail}")
    return response.json()


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


COLUMNS = (
    ("活动 activities", lambda f: str(f["activities"])),
    ("参与人次 participations", lambda f: str(f["volunteer_participations"])),
    ("服务人次 served", lambda f: str(f["people_served"])),
    ("时长 hours", lambda f: f"{f['volunteer_hours']:g}"),
    ("宣讲 lectures", lambda f: str(f["lectures"])),
    ("听众 audience", lambda f: str(f["lecture_audience"])),
    ("就地 on site", lambda f: str(f["patrol_reports"].get("resolved_on_site", 0))),
    ("上报 reported", lambda f: str(f["patrol_reports"].get("reported_to_community", 0))),
    ("联商 joint", lambda f: str(f["patrol_reports"].get("joint_consultation", 0))),
    ("响应率 response", lambda f: _rate(f["rates"]["response"])),
    ("办结率 resolution", lambda f: _rate(f["rates"]["resolution"])),
    ("满意率 satisfaction", lambda f: _rate(f["rates"]["satisfaction"])),
)


def format_table(report: dict[str, Any]) -> str:
    """The report as tab-separated lines: a header, one line per township, the total."""
    period = f"{report.get('from') or '…'} — {report.get('to') or 'now'}"
    lines = [f"# 古田县新时代文明实践 rollout report, {period}"]
    lines.append("\t".join(["乡镇 township", *(name for name, _ in COLUMNS)]))
    for row in report["townships"]:
        lines.append("\t".join([row["township"], *(cell(row) for _, cell in COLUMNS)]))
    lines.append("\t".join(["合计 total", *(cell(report["total"]) for _, cell in COLUMNS)]))
    return "\n".join(lines)


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    available = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in available), None)


def draw_png(report: dict[str, Any], path: Path) -> Path:
    """The three rates per township, ranked by satisfaction then response, as a bar chart."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to a file
    import matplotlib.pyplot as plt

    font = _cjk_font()
    rows = sorted(
        report["townships"],
        key=lambda row: tuple(-(row["rates"][rate] or 0) for rate in ("satisfaction", "response")),
    )
    labels = [row["township"] if font else PINYIN.get(row["township"], row["township"]) for row in rows]
    # The font must be chosen before the figure exists: ticks take it when they are made.
    with plt.rc_context({"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}):
        figure, axes = plt.subplots(figsize=(max(8, len(rows) * 0.9), 5), dpi=110)
        width = 0.27
        for index, rate in enumerate(RATES):
            values = [(row["rates"][rate] or 0) * 100 for row in rows]
            positions = [x + (index - 1) * width for x in range(len(rows))]
            axes.bar(positions, values, width, label=rate)
        axes.set_xticks(range(len(rows)), labels, rotation=45, ha="right")
        axes.set_ylim(0, 105)
        axes.set_ylabel("%")
        axes.set_title(
            "各乡镇响应率、办结率、满意率" if font else "Response, resolution and satisfaction by township"
        )
        axes.legend(loc="lower right")
        figure.tight_layout()
        figure.savefig(path, format="png")
        plt.close(figure)
    return path


@click.command()
@click.option("--from", "start", default=None, help="start of the period (ISO 8601 date or time)")
@click.option("--to", "end", default=None, help="end of the period, exclusive")
@click.option("--township", default=None, help="one township only")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), default=None, help="chart file")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--gateway", default=None, help="gateway URL (default: the profile's)")
@profile_option
def report(
    start: str | None,
    end: str | None,
    township: str | None,
    png: Path | None,
    as_json: bool,
    gateway: str | None,
    profile: Profile,
) -> None:
    """The county report per township and in total (GET /api/v1/stats/rollout)."""
    secret = profile.need("CIVICLOOP_JWT_SECRET")
    token = issue_token(secret, sub="civicloop-report", role="admin", ttl=timedelta(minutes=5))
    try:
        figures = fetch(profile.gateway(gateway), token, start, end, township)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(figures, ensure_ascii=False, indent=2) if as_json else format_table(figures))
    if png:
        click.echo(f"chart: {draw_png(figures, png)}", err=True)
