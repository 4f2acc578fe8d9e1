"""The dashboard's tables as files: CSV (UTF-8 with a BOM, so Excel opens Chinese correctly) and
Excel workbooks (openpyxl), one sheet per table."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from workbench.dashboard import Table

BOM = "\ufeff"
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def to_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows(["" if cell is None else cell for cell in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8")


def to_xlsx(tables: Sequence[Table], *, caption: str) -> bytes:
    """One sheet per table: a caption line (period, filters), the header, then the rows."""
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.title.translate(_SHEET_FORBIDDEN)[:31])
        sheet.append([f"{table.title}（{caption}）"])
        sheet.append(table.columns)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(row)
        for index, column in enumerate(table.columns, 1):
            widest = max([len(str(column))] + [len(str(row[index - 1] or "")) for row in table.rows])
            sheet.column_dimensions[get_column_letter(index)].width = min(60, 4 + 2 * widest)
        sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
