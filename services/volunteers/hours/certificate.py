"""A volunteer's printable certificate of service hours (志愿服务证明), as a PDF.

fpdf2 embeds a TrueType font; a CJK font (WenQuanYi Micro Hei, installed by deploy/local/stack.sh's
apt step) lets Chinese names print. Without one the certificate falls back to a Latin font and
English text, and says so, rather than printing empty boxes (docs/adr/0051).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from services.common.county import COUNTY
from services.volunteers.hours.domain import Ledger
from services.volunteers.people.domain import Volunteer

CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
LATIN_FONTS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),)


def cjk_font() -> Path | None:
    """The first CJK-capable font found on the machine."""
    return next((path for path in CJK_FONTS if path.exists()), None)


def render(volunteer: Volunteer, ledger: Ledger, issued_at: datetime) -> bytes:
    """The certificate: who, how many hours over how many services, and the services themselves."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"Volunteer service certificate {volunteer.id}")
    pdf.set_author(f"{COUNTY} New Era Civilization Practice Centre")
    pdf.add_page()
    font = cjk_font()
    chinese = font is not None
    if font is not None:
        pdf.add_font("cert", fname=str(font), collection_font_number=0)
        family = "cert"
    elif (latin := next((p for p in LATIN_FONTS if p.exists()), None)) is not None:
        pdf.add_font("cert", fname=str(latin))
        family = "cert"
    else:
        family = "helvetica"
    name = volunteer.name if chinese else volunteer.id
    total = f"{ledger.total_hours:g}"
    width = pdf.epw

    pdf.set_font(family, size=22)
    title = "志愿服务证明  Volunteer Service Certificate" if chinese else "Volunteer Service Certificate"
    pdf.cell(width, 16, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(family, size=12)
    lines = [
        f"志愿者 Volunteer: {name}  ({volunteer.id})" if chinese else f"Volunteer: {name}",
        f"所属 Township: {volunteer.township}" if chinese else "",
        f"累计服务时长 Total hours: {total}" if chinese else f"Total hours: {total}",
        f"服务次数 Services: {ledger.tasks}" if chinese else f"Services: {ledger.tasks}",
    ]
    for line in filter(None, lines):
        pdf.cell(width, 9, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(family, size=10)
    with pdf.table(
        col_widths=(30, 40, 60, 25),
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT"),
        # One embedded font has no bold face: headings are shaded instead.
        headings_style=FontFace(emphasis="", fill_color=(230, 230, 230)),
    ) as table:
        table.row(["Date", "Township" if not chinese else "乡镇 Township", "Task", "Hours"])
        for entry in ledger.entries:
            township = (entry.township or "") if chinese else ""
            done = entry.completed_at
            table.row(
                [done.strftime("%Y-%m-%d") if done else "", township, entry.task_id, f"{entry.hours:g}"]
            )
    pdf.ln(8)
    pdf.set_font(family, size=11)
    issuer = (
        f"{COUNTY}新时代文明实践中心" if chinese else "Gutian County New Era Civilization Practice Centre"
    )
    pdf.cell(width, 8, f"{issuer}   {issued_at:%Y-%m-%d}", align="R", new_x="LMARGIN", new_y="NEXT")
    if not chinese:
        pdf.set_font(family, size=8)
        pdf.cell(width, 6, "(no CJK font on this server: names are shown by id)", align="R")
    return bytes(pdf.output())
