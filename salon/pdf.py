"""A small PDF renderer for Salon's printed documents (the session packet, the half-year review report …).

A4 pages with Chinese as real, extractable text: every glyph comes from the CJK font the project ships
(salon/fonts, Apache-2.0), embedded as a subset of the glyphs used — never a system font, never a
download — and no PDF base-14 font is referenced, so the file shows the same in any viewer on any machine.
Built on reportlab's platypus: text wraps by CJK rules, tables split only between rows (repeating their header),
and `keep` holds a heading with what follows. Rooms build a list of flowables with the helpers here and call
`render`."""
from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Callable, Iterable, Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (BaseDocTemplate, CondPageBreak, Flowable, Frame, KeepTogether, PageBreak,
                                PageTemplate, Paragraph, Spacer, Table, TableStyle)

FONT = "SalonCJK"
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "WenQuanYiMicroHei.ttf"
PAGE = A4
MARGIN = 16 * mm
WIDTH = PAGE[0] - 2 * MARGIN  # the text width
INK = colors.HexColor("#222222")
MUTED = colors.HexColor("#666666")
ACCENT = colors.HexColor("#a4262c")
RULE = colors.HexColor("#999999")
SHADE = colors.HexColor("#f2eeea")

_lock = threading.Lock()
_styles: dict[str, ParagraphStyle] = {}

__all__ = ["FONT", "WIDTH", "MARGIN", "ACCENT", "MUTED", "SHADE", "register_fonts", "styles", "para", "heading",
           "table", "facts", "ruled_lines", "keep", "space", "page_break", "cond_page_break", "render", "mm"]


def register_fonts() -> None:
    """Load the CJK font once per process (≈0.3 s); later documents reuse it. Bold and italic map to the same
    face, so markup never falls back to a base-14 font."""
    if _styles:
        return
    with _lock:
        if _styles:
            return
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)
        base = dict(fontName=FONT, textColor=INK, wordWrap="CJK")
        made = {
            "title": ParagraphStyle("title", fontSize=22, leading=30, alignment=TA_CENTER, spaceAfter=4, **base),
            "subtitle": ParagraphStyle("subtitle", fontSize=13, leading=19, alignment=TA_CENTER, spaceAfter=2,
                                       **{**base, "textColor": MUTED}),
            "h1": ParagraphStyle("h1", fontSize=15, leading=21, spaceBefore=10, spaceAfter=5,
                                 **{**base, "textColor": ACCENT}),
            "h2": ParagraphStyle("h2", fontSize=12, leading=17, spaceBefore=7, spaceAfter=3, **base),
            "body": ParagraphStyle("body", fontSize=10.5, leading=16, spaceAfter=4, **base),
            "small": ParagraphStyle("small", fontSize=9, leading=13, spaceAfter=2, **{**base, "textColor": MUTED}),
            "cell": ParagraphStyle("cell", fontSize=10, leading=14, **base),
            "cell_head": ParagraphStyle("cell_head", fontSize=10, leading=14, **base),
            "cell_small": ParagraphStyle("cell_small", fontSize=8.5, leading=12, **{**base, "textColor": MUTED}),
        }
        _styles.update(made)


def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    return _styles


def para(text: str | None, style: str = "body") -> Paragraph:
    """Plain text (escaped; line breaks kept) as a paragraph in one of `styles()`."""
    return Paragraph(escape(text or "").replace("\n", "<br/>"), styles()[style])


def heading(text: str, level: int = 1) -> Paragraph:
    return para(text, "h1" if level == 1 else "h2")


def _cell(value, style: str):
    if isinstance(value, Flowable) or isinstance(value, list):
        return value
    return para("" if value is None else str(value), style)


def table(rows: Sequence[Sequence], widths: Sequence[float], header: bool = True, row_height: float | None = None,
          shade_rows: Iterable[int] = (), grid: bool = True, extra: Sequence[tuple] = ()) -> Table:
    """A table that breaks only between rows and repeats its header row on each page. Widths in points
    (use `mm`), summing to at most WIDTH; a fixed `row_height` gives every body row the same height."""
    body_style = "cell"
    data = [[_cell(v, "cell_head" if header and i == 0 else body_style) for v in row] for i, row in enumerate(rows)]
    heights = None
    if row_height is not None:
        heights = [None if header and i == 0 else row_height for i in range(len(rows))]
    t = Table(data, colWidths=list(widths), rowHeights=heights, repeatRows=1 if header else 0, hAlign="LEFT")
    commands = [("FONT", (0, 0), (-1, -1), FONT, 10), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]
    if grid:
        commands.append(("GRID", (0, 0), (-1, -1), 0.5, RULE))
    else:
        commands.append(("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE))
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    for index in shade_rows:
        commands.append(("BACKGROUND", (0, index), (-1, index), SHADE))
    commands.extend(extra)
    t.setStyle(TableStyle(commands))
    return t


def facts(pairs: Sequence[tuple[str, str]], label_width: float = 28 * mm) -> Table:
    """Label–value lines (no grid), e.g. a cover's date, time and venue."""
    data = [[para(label, "small"), para(value, "body")] for label, value in pairs]
    t = Table(data, colWidths=[label_width, WIDTH - label_width], hAlign="LEFT")
    t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 10), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    return t


class _Lines(Flowable):
    """Ruled lines to write on, filling the height asked for."""

    def __init__(self, height: float, gap: float = 9 * mm):
        super().__init__()
        self.height, self.gap = height, gap

    def wrap(self, available_width, available_height):
        self.width = available_width
        self.height = min(self.height, available_height - 1)
        return self.width, self.height

    def draw(self):
        self.canv.setStrokeColor(RULE)
        self.canv.setLineWidth(0.4)
        y = self.height - self.gap
        while y >= 0:
            self.canv.line(0, y, self.width, y)
            y -= self.gap


def ruled_lines(height: float, gap: float = 9 * mm) -> Flowable:
    return _Lines(height, gap)


def keep(*flowables) -> KeepTogether:
    return KeepTogether(list(flowables))


def space(height: float) -> Spacer:
    return Spacer(1, height)


def page_break() -> PageBreak:
    return PageBreak()


def cond_page_break(height: float) -> CondPageBreak:
    """A page break only when less than `height` is left on the page."""
    return CondPageBreak(height)


def render(story: list, *, title: str, author: str = "", subject: str = "",
           footer: str | Callable[[int], str] = "") -> bytes:
    """Lay the flowables out on A4 pages and return the PDF. `footer` is drawn at the bottom of every page
    with the page number; a callable gets the page number and returns the whole line."""
    register_fonts()
    buffer = io.BytesIO()

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(MUTED)
        page = canvas.getPageNumber()
        line = footer(page) if callable(footer) else f"{footer}  ·  {page}" if footer else str(page)
        canvas.drawCentredString(PAGE[0] / 2, MARGIN / 2, line)
        canvas.restoreState()

    doc = BaseDocTemplate(buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                          bottomMargin=MARGIN, title=title, author=author, subject=subject, creator="Salon",
                          initialFontName=FONT, initialFontSize=10, initialLeading=14, pageCompression=1,
                          lang="zh-CN")
    frame = Frame(MARGIN, MARGIN, WIDTH, PAGE[1] - 2 * MARGIN, id="body", leftPadding=0, rightPadding=0,
                  topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page)])
    doc.build(story)
    return buffer.getvalue()
