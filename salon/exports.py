"""Tables for the bureau's records as CSV (UTF-8 with BOM, for spreadsheet programs) or XLSX (openpyxl)."""
from __future__ import annotations

import csv
import io

from flask import Response
from flask_babel import gettext as _

from salon.errors import NotFound

FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The OpenAPI answer of an export route: the table as CSV or as XLSX, as its path's extension says.
EXPORT_DOC = {"200": {"description": "The table as CSV (UTF-8 with BOM) or XLSX, as the path's extension says",
                      "content": {"text/csv": {"schema": {"type": "string"}},
                                  XLSX: {"schema": {"type": "string", "format": "binary"}}}}}


def table_response(rows: list[list], name: str, fmt: str) -> Response:
    if fmt not in FORMATS:
        raise NotFound(_("Not found."), "fmt")
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={name}.csv"})
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return Response(data.getvalue(), headers={"Content-Disposition": f"attachment; filename={name}.xlsx"},
                    mimetype=XLSX)
