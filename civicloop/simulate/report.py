"""The county report of the simulated period: Markdown and a PDF with charts, beside the county's figures."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from civicloop.report import PINYIN, _cjk_font, draw_png
from civicloop.simulate.accounting import FIGURES, Accounting, differences, truth_figures
from civicloop.simulate.scenario import Scenario
from civicloop.simulate.truth import Truth

CJK_FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
LABELS = {
    "submitted": "订单 orders submitted",
    "activities": "活动 activities (completed)",
    "volunteer_participations": "志愿者参与人次 participations",
    "people_served": "服务群众人次 people served",
    "volunteer_hours": "服务时长 volunteer hours",
    "lectures": "宣讲 lectures",
    "lecture_audience": "宣讲受众 lecture audience",
    "ratings": "评价 ratings",
    "ratings_4_or_5": "满意评价 ratings of 4 or 5",
    "resolved_on_site": "就地解决 patrols resolved on site",
    "reported_to_community": "上报社区 patrols reported to the community",
    "joint_consultation": "联合协商 patrols to joint consultation",
}


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value):,}"


def ranking(rollout: dict[str, Any]) -> list[dict[str, Any]]:
    """Townships ranked by satisfaction, then response, then resolution (as `civicloop report` does)."""
    return sorted(
        rollout["townships"],
        key=lambda row: tuple(-(row["rates"][r] or 0) for r in ("satisfaction", "response", "resolution")),
    )


def published_rows(
    scenario: Scenario, rollout: dict[str, Any], days: int
) -> list[tuple[str, float, float, int]]:
    """(figure, report, published prorated to the simulated days, published for a year)."""
    published = scenario.published
    total = rollout["total"]
    share = days / 365
    rows: list[tuple[str, float, float, int]] = []
    lectures = total["lectures"]
    pairs = [
        ("activities (services other than lectures)", total["activities"] - lectures, published.activities),
        ("volunteer_participations", total["volunteer_participations"], published.participations),
        ("people_served", total["people_served"], published.people_served),
        ("lectures", lectures, published.lectures),
        ("lecture_audience", total["lecture_audience"], published.lecture_audience),
        *[(tier, total["patrol_reports"].get(tier, 0), count) for tier, count in published.patrols.items()],
    ]
    for name, reported, yearly in pairs:
        if yearly is not None:
            rows.append((name, reported, yearly * share, yearly))
    return rows


def markdown(
    scenario: Scenario,
    truth: Truth,
    rollout: dict[str, Any],
    accounting: Accounting,
    charts: dict[str, Path],
    run_facts: dict[str, str],
) -> str:
    """The whole report as Markdown."""
    start = datetime.fromtimestamp(truth.origin, scenario.start.tzinfo)
    end = start + timedelta(days=truth.days)
    lines = [
        f"# {scenario.county} 新时代文明实践 — simulated county report",
        "",
        f"Simulated period: {start:%Y-%m-%d} to {end:%Y-%m-%d} (exclusive; {truth.days} days), "
        f"seed {truth.seed}, "
        f"clock speed ×{truth.speed:g}.",
        "",
        *(f"- {name}: {value}" for name, value in run_facts.items()),
        "",
        "## Every order accounted for",
        "",
        f"**{accounting.headline}** (from the simulator's own record against the platform's state).",
        "",
        "| outcome | orders |",
        "|---|---:|",
        *(f"| {outcome} | {count} |" for outcome, count in sorted(accounting.outcomes.items())),
        f"| never submitted (the platform never answered) | {len(accounting.never_submitted)} |",
        "",
        f"Pairing visits due by the end: {accounting.visits_expected}; ordered by the platform: "
        f"{accounting.visits_seen}. Follow-ups called back by township staff: {truth.followups_resolved}.",
        "",
    ]
    if accounting.details:
        lines += ["Orders not closed, cancelled or rejected, and why:", ""]
        why = Counter(accounting.details.values())
        lines += [f"- {reason}: {count}" for reason, count in why.most_common()]
        lines.append("")
    from civicloop.simulate.accounting import percentiles

    lines += [
        "## Where the platform took its time",
        "",
        "Simulated time the platform itself took (and the real seconds it means at this speed):",
        "",
        "| step | orders | p50 | p90 | max |",
        "|---|---:|---:|---:|---:|",
    ]
    for step, values in accounting.latencies.items():
        found = percentiles(values)
        cells = [
            f"{found[q] / 60:.0f} min ({found[q] / truth.speed:.1f} s real)" for q in ("p50", "p90", "max")
        ]
        lines.append(f"| {step} | {found['n']} | " + " | ".join(cells) + " |")
    found = percentiles(truth.lateness)
    lines += [
        f"| the simulator itself: a step's lag behind its moment | {found['n']} | "
        + " | ".join(
            f"{found[q] / 60:.0f} min ({found[q] / truth.speed:.1f} s real)" for q in ("p50", "p90", "max")
        )
        + " |",
        "",
    ]
    total = rollout["total"]
    lines += [
        "## The three rates",
        "",
        "- 响应率 response (offers accepted within their deadline / offers): "
        f"{_rate(total['rates']['response'])} "
        f"({total['counts']['offers_accepted_in_time']} / {total['counts']['offers']})",
        f"- 办结率 resolution (completed / submitted): {_rate(total['rates']['resolution'])} "
        f"({total['counts']['completed']} / {total['counts']['submitted']})",
        f"- 满意率 satisfaction (ratings of 4 or 5 / ratings): {_rate(total['rates']['satisfaction'])} "
        f"({total['counts']['ratings_4_or_5']} / {total['counts']['ratings']})",
        "",
        "## Per township (GET /api/v1/stats/rollout), ranked",
        "",
        "| # | 乡镇 township | orders | activities | participations | people served | hours | lectures "
        "| audience | on site | to community | joint | response | resolution | satisfaction |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for place, row in enumerate(ranking(rollout), start=1):
        lines.append(_township_line(str(place), row["township"], row))
    lines.append(_township_line("", "**合计 total**", total))
    lines += [
        "",
        "## Against the county's published figures",
        "",
        f"The published figures are for a year; the middle column prorates them to {truth.days} days.",
        "",
        "| figure | report | published, prorated | published (year) | report / prorated |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, reported, prorated, yearly in published_rows(scenario, rollout, truth.days):
        ratio = f"{reported / prorated:.2f}" if prorated else "—"
        lines.append(
            f"| {LABELS.get(name, name)} | {_number(reported)} | {_number(round(prorated))} | "
            f"{yearly:,} | {ratio} |"
        )
    if scenario.published.notes:
        lines += ["", *(f"- {note}" for note in scenario.published.notes)]
    expected = truth_figures(truth)
    from civicloop.simulate.accounting import report_figures

    reported = report_figures(total)
    lines += [
        "",
        "## The report against the simulator's ground truth",
        "",
        "| figure | ground truth | report | difference |",
        "|---|---:|---:|---:|",
        *(
            f"| {LABELS[name]} | {_number(expected[name])} | {_number(reported[name])} | "
            f"{_number(round(reported[name] - expected[name], 2))} |"
            for name in FIGURES
        ),
        "",
    ]
    wrong = differences(truth, rollout)
    lines.append(
        "Every township's figures equal the ground truth."
        if not wrong
        else f"{len(wrong)} figures differ: "
        + "; ".join(f"{w} {n}: truth {t:g}, report {r:g}" for w, n, t, r in wrong[:12])
    )
    if truth.faults:
        lines += [
            "",
            "## Faults injected (--chaos)",
            "",
            "| simulated time | fault | detail |",
            "|---|---|---|",
        ]
        for fault in truth.faults:
            at = datetime.fromtimestamp(fault["at"], UTC).strftime("%Y-%m-%d %H:%M")
            lines.append(f"| {at} | {fault['kind']} | {fault['detail']} |")
    if charts:
        lines += ["", "## Charts", ""]
        lines += [f"![{name}]({path.name})" for name, path in charts.items()]
    return "\n".join(lines) + "\n"


def _township_line(place: str, name: str, row: dict[str, Any]) -> str:
    patrols = row["patrol_reports"]
    cells = [
        place,
        name,
        row["counts"]["submitted"],
        row["activities"],
        row["volunteer_participations"],
        row["people_served"],
        _number(row["volunteer_hours"]),
        row["lectures"],
        row["lecture_audience"],
        patrols.get("resolved_on_site", 0),
        patrols.get("reported_to_community", 0),
        patrols.get("joint_consultation", 0),
        _rate(row["rates"]["response"]),
        _rate(row["rates"]["resolution"]),
        _rate(row["rates"]["satisfaction"]),
    ]
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


# --- charts ---------------------------------------------------------------------------------------------
def draw_charts(truth: Truth, scenario: Scenario, rollout: dict[str, Any], folder: Path) -> dict[str, Path]:
    """The rates per township, demand by week and category, patrol tiers by month, report vs published."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    charts = {"rates per township": draw_png(rollout, folder / "rates.png")}
    font = _cjk_font()
    style = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}
    weeks: dict[str, Counter] = {}
    tiers: dict[str, Counter] = {}
    for order in truth.orders.values():
        if not order.submitted_at or order.kind == "visit":
            continue
        # When the person wanted it (demand), not when the platform took it.
        moment = datetime.fromtimestamp(order.planned_at, UTC) + timedelta(hours=8)
        if order.kind == "patrol":
            tiers.setdefault(order.tier or "", Counter())[moment.strftime("%Y-%m")] += 1
        else:
            week = (moment.date() - timedelta(days=moment.weekday())).isoformat()
            weeks.setdefault(order.category, Counter())[week] += 1
    with plt.rc_context(style):
        figure, axes = plt.subplots(figsize=(10, 4.5), dpi=110)
        labels = sorted({week for counter in weeks.values() for week in counter})
        bottom = [0] * len(labels)
        for category, counter in sorted(weeks.items()):
            values = [counter.get(week, 0) for week in labels]
            axes.bar(range(len(labels)), values, bottom=bottom, label=category)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        step = max(1, len(labels) // 12)
        axes.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, ha="right")
        axes.set_title("Orders per week by category (festivals and seasons)")
        axes.legend(fontsize=7, ncol=2)
        figure.tight_layout()
        figure.savefig(folder / "demand.png")
        plt.close(figure)
        charts["orders per week"] = folder / "demand.png"

        figure, axes = plt.subplots(figsize=(8, 4), dpi=110)
        months = sorted({m for counter in tiers.values() for m in counter})
        for index, (tier, counter) in enumerate(sorted(tiers.items())):
            axes.bar(
                [x + (index - 1) * 0.27 for x in range(len(months))],
                [counter.get(m, 0) for m in months],
                0.27,
                label=tier,
            )
        axes.set_xticks(range(len(months)), months)
        axes.set_title("Patrol reports per month, by tier")
        axes.legend()
        figure.tight_layout()
        figure.savefig(folder / "patrols.png")
        plt.close(figure)
        charts["patrol tiers"] = folder / "patrols.png"

        rows = published_rows(scenario, rollout, truth.days)
        if rows:
            figure, axes = plt.subplots(figsize=(8, 4), dpi=110)
            axes.barh([name for name, *_ in rows], [r / p * 100 if p else 0 for _, r, p, _ in rows])
            axes.axvline(100, color="black", linewidth=1)
            axes.set_xlabel("report as % of the published figure, prorated")
            axes.set_title("Simulated report against the county's published figures")
            figure.tight_layout()
            figure.savefig(folder / "published.png")
            plt.close(figure)
            charts["against the published figures"] = folder / "published.png"
    return charts


# --- PDF ------------------------------------------------------------------------------------------------
def write_pdf(text: str, charts: dict[str, Path], path: Path) -> Path:
    """The Markdown as a printable PDF (tables as monospaced-free lines), charts on their own pages."""
    from fpdf import FPDF

    pdf = FPDF(orientation="L")
    pdf.set_auto_page_break(auto=True, margin=12)
    font_file = next((f for f in CJK_FONT_FILES if f.exists()), None)
    if font_file is not None:
        pdf.add_font("report", fname=str(font_file), collection_font_number=0)
        family = "report"
    else:
        family = "helvetica"
        text = "".join(ch if ord(ch) < 256 else "?" for ch in text)
    pdf.add_page()
    for line in text.splitlines():
        if line.startswith("!["):
            continue
        if line.startswith("|---"):
            continue
        if line.startswith("# "):
            pdf.set_font(family, size=16)
            pdf.multi_cell(0, 9, line[2:], new_x="LMARGIN", new_y="NEXT")
        elif line.startswith("## "):
            pdf.ln(2)
            pdf.set_font(family, size=13)
            pdf.multi_cell(0, 8, line[3:], new_x="LMARGIN", new_y="NEXT")
        elif line.startswith("|"):
            cells = [cell.strip().replace("**", "") for cell in line.strip("|").split("|")]
            pdf.set_font(family, size=6.5 if len(cells) > 8 else 8.5)
            page = pdf.w - pdf.l_margin - pdf.r_margin
            widths = [page / len(cells)] * len(cells)
            if len(cells) <= 5:
                # A label column and a few numbers: the label gets two fifths of the width.
                widths = [page * 0.4, *([page * 0.6 / (len(cells) - 1)] * (len(cells) - 1))]
            for cell, cell_width in zip(cells, widths, strict=True):
                pdf.cell(cell_width, 5, cell[:60], border=1)
            pdf.ln(5)
        else:
            pdf.set_font(family, size=9.5)
            pdf.multi_cell(0, 5, line.replace("**", "") or " ", new_x="LMARGIN", new_y="NEXT")
    for name, chart in charts.items():
        pdf.add_page()
        pdf.set_font(family, size=13)
        pdf.cell(0, 8, name, new_x="LMARGIN", new_y="NEXT")
        pdf.image(str(chart), w=pdf.w - pdf.l_margin - pdf.r_margin - 40)
    pdf.output(str(path))
    return path


def township_label(name: str) -> str:
    return PINYIN.get(name, name)
