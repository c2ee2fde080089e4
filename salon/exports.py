"""Tables for the bureau's records as CSV (UTF-8 with BOM, for spreadsheet programs) or XLSX (openpyxl)."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

from flask import Response
from flask_babel import format_date
from flask_babel import gettext as _

from salon.errors import NotFound

FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The OpenAPI answer of an export route: the table as CSV or as XLSX, as its path's extension says.
EXPORT_DOC = {"200": {"description": "The table as CSV (UTF-8 with BOM) or XLSX, as the path's extension says",
                      "content": {"text/csv": {"schema": {"type": "string"}},
                                  XLSX: {"schema": {"type": "string", "format": "binary"}}}}}


SHEET_NAME_MAX = 31  # what spreadsheet programs allow for a sheet's name


def heading(programme: str, title: str, day: date | datetime, start: date | datetime,
            end: date | datetime | None) -> list[list]:
    """The first lines of every export: the programme, what the table is, its date and the period it covers, so
    a file read on its own says what it is."""
    return [[programme], [title], [_("Date"), format_date(day, "long")],
            [_("Period covered"), f"{format_date(start, 'long')} – {format_date(end, 'long') if end else ''}"], []]


def _sheet_name(title: str) -> str:
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()
    return cleaned[:SHEET_NAME_MAX] or "Salon"


def table_response(rows: list[list], name: str, fmt: str, title: str | None = None,
                   head: list[list] | None = None) -> Response:
    """The table as a file. `head` (exports.heading) goes first; `title` names the XLSX sheet."""
    if fmt not in FORMATS:
        raise NotFound(_("Not found."), "fmt")
    rows = (head or []) + rows
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={name}.csv"})
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    if title:
        sheet.title = _sheet_name(title)
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return Response(data.getvalue(), headers={"Content-Disposition": f"attachment; filename={name}.xlsx"},
                    mimetype=XLSX)
