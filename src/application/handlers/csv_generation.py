"""The `csv_generation` task: write rows to a CSV file in the output directory."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from application.errors import InvalidRequest
from application.files import FileStore, is_plain_file_name
from domain.errors import PermanentTaskError
from domain.task import JsonObject, Task

TASK_TYPE = "csv_generation"
#: Leading characters a spreadsheet reads as a formula; such cells get a leading quote.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_payload(
    *, columns: Sequence[str], rows: Sequence[Sequence[Any]], filename: str | None
) -> JsonObject:
    """The payload of an explicit export, checked before it is queued."""
    if not columns:
        raise InvalidRequest("columns must name at least one column", field="columns")
    for index, row in enumerate(rows):
        if len(row) != len(columns):
            raise InvalidRequest(
                f"rows[{index}] has {len(row)} cells; columns has {len(columns)}", field="rows"
            )
    if filename is not None and not is_plain_file_name(filename):
        raise InvalidRequest(
            "filename must be a plain file name (no path separators, not starting with a dot)",
            field="filename",
        )
    return {"columns": list(columns), "rows": [list(row) for row in rows], "filename": filename}


def render_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """RFC 4180 CSV in UTF-8: quotes, commas and newlines quoted, formulas neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(c) for c in columns])
    writer.writerows([_cell(c) for c in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class CsvGenerationHandler:
    """Writes the payload's columns and rows to `<output dir>/<filename>`."""

    def __init__(self, *, files: FileStore) -> None:
        self._files = files

    def __call__(self, task: Task) -> JsonObject:
        columns = task.payload.get("columns")
        rows = task.payload.get("rows")
        if not isinstance(columns, list) or not isinstance(rows, list):
            raise PermanentTaskError("payload needs a list of columns and a list of rows")
        filename = task.payload.get("filename") or f"{task.id}.csv"
        content = render_csv(columns, rows)
        path = self._files.write(filename, content)
        return {"path": path, "rows": len(rows), "bytes": len(content)}
