"""python-calamine in a child process with a memory limit: what a spreadsheet costs to read is paid there.

A workbook that gets past the limits in `workbook_limits` can still ask calamine for more memory
than the server has; when calamine cannot allocate it aborts the whole process (Rust does not raise).
So the web app and the CLI never call calamine themselves: `read_sheets` starts
`python -m attain.imports.excel_worker`, which limits its own address space (RLIMIT_AS, see
`memory_limit_bytes`) before it imports calamine, reads the sheets asked for and sends their rows
back in pickled batches. If the child dies — out of memory, killed, too slow — the caller gets an
InvalidInput saying so, and its job fails with that message instead of taking the server down.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from attain.errors import InvalidInput

MEMORY_VARIABLE = "ATTAIN_EXCEL_MEMORY_MB"
DEFAULT_MEMORY_MB = 4096  # reads a sheet of MAX_SHEET_CELLS (about 135 bytes a cell at the peak)
TIMEOUT_SECONDS = 30 * 60
BATCH_ROWS = 20_000


@dataclass
class Sheets:
    """The workbook's sheet names and the rows of the sheets read (a sheet asked for but missing is absent)."""

    sheet_names: list[str]
    rows: dict[str, list[list[Any]]] = field(default_factory=dict)


def memory_limit_bytes() -> int:
    """The child's address-space limit: ATTAIN_EXCEL_MEMORY_MB, else 4 GiB or half the machine's memory."""
    configured = os.environ.get(MEMORY_VARIABLE, "").strip()
    if configured:
        try:
            megabytes = int(configured)
        except ValueError:
            raise InvalidInput.coded("imports.excel_worker.number_megabytes", memory_variable=MEMORY_VARIABLE, configured=configured) from None
        return max(megabytes, 64) << 20
    limit = DEFAULT_MEMORY_MB << 20
    try:
        limit = min(limit, os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2)
    except (ValueError, OSError, AttributeError):
        pass
    return limit


def read_sheets(
    path: Path, *, source: str, sheets: Sequence[str] | None, trimmed: Sequence[str] = (), as_text: bool = False,
    max_cells: int,
) -> Sheets:
    """Read sheets of a workbook in a child process: `sheets` by name (None: the first sheet only).

    Rows are padded out to A1 (so a row's index is its sheet row number - 1), except the sheets in
    `trimmed`, which start at their first row and column holding something (calamine's
    skip_empty_area). `as_text`: cells as `reading.cell_text` writes them, else calamine's values.
    A sheet spanning more than `max_cells` from A1 is refused before its rows are made."""
    request = {"path": str(path), "source": source, "sheets": None if sheets is None else list(sheets),
               "trimmed": list(trimmed), "as_text": as_text, "max_cells": max_cells,
               "memory_bytes": memory_limit_bytes()}
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "attain.imports.excel_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=errors, env={**os.environ, "RUST_BACKTRACE": "0"},
        )
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            child.kill()

        timer = threading.Timer(TIMEOUT_SECONDS, stop)
        timer.daemon = True
        timer.start()
        try:
            assert child.stdin is not None and child.stdout is not None
            with child.stdin:
                pickle.dump(request, child.stdin)
            result, message = _collect(child.stdout)
        except BrokenPipeError:
            result, message = None, None
        finally:
            timer.cancel()
            status = child.wait()
        errors.seek(0)
        stderr = errors.read(20_000).decode("utf-8", "replace")
    if message is not None:
        code, params = message
        raise InvalidInput.coded(code, **params)
    if result is None or status != 0:
        raise _death(source, status, stderr, timed_out.is_set(), request["memory_bytes"])
    return result


def _collect(stream: BinaryIO) -> tuple[Sheets | None, list[Any] | None]:
    """Read the child's messages: (sheets, None) when it finished, (None, message) when it refused the
    file, (None, None) when it stopped in the middle."""
    sheets: Sheets | None = None
    padding: dict[str, tuple[int, int, int]] = {}
    while True:
        try:
            kind, *body = pickle.load(stream)  # one pickle per message (an Unpickler's memo would carry over)
        except (EOFError, pickle.UnpicklingError):
            return None, None
        if kind == "refused":  # (code, params) of attain.messages
            return None, body
        if kind == "names":
            sheets = Sheets(body[0])
        elif kind == "sheet" and sheets is not None:
            name, top, left, width = body
            padding[name] = (top, left, width)
            sheets.rows[name] = [[""] * width for _ in range(top)]
        elif kind == "rows" and sheets is not None:
            name, batch = body
            _, left, _ = padding[name]
            rows = sheets.rows[name]
            if left:
                rows.extend([""] * left + row for row in batch)
            else:
                rows.extend(batch)
        elif kind == "done":
            return sheets, None


def _death(source: str, status: int, stderr: str, timed_out: bool, memory_bytes: int) -> InvalidInput:
    """Why the child stopped without an answer, for the user."""
    if timed_out:
        return InvalidInput.coded("imports.excel.timeout", source=source, minutes=f"{TIMEOUT_SECONDS / 60:g}")
    if "memory allocation" in stderr or "MemoryError" in stderr or status in (-6, -9):
        # Rust aborts (SIGABRT) when an allocation fails under the limit; the kernel's OOM killer sends SIGKILL.
        return InvalidInput.coded("imports.excel.out_of_memory", source=source, megabytes=f"{memory_bytes >> 20:,}",
                                  variable=MEMORY_VARIABLE)
    last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {status}"
    return InvalidInput.coded("imports.excel.stopped", source=source, reason=last[:300])


# --- the child ------------------------------------------------------------------------------------


def _limit_memory(memory_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # not on Linux/macOS: no limit to set
        return
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _messages(request: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """What the child sends: the sheet names, then per sheet its padding and its rows in batches."""
    from python_calamine import CalamineWorkbook

    from attain.imports.reading import cell_text, column_name

    source = request["source"]
    try:
        workbook = CalamineWorkbook.from_path(request["path"])
        names = list(workbook.sheet_names)
    except BaseException as exc:  # calamine raises its own types, and a Rust panic is a BaseException
        if isinstance(exc, MemoryError | KeyboardInterrupt | SystemExit):
            raise
        yield ("refused", "imports.workbook_limits.readable_excel_workbook", {"source": source, "exc": str(exc)})
        return
    yield ("names", names)
    wanted = names[:1] if request["sheets"] is None else [name for name in request["sheets"] if name in names]
    for name in wanted:
        try:
            sheet = workbook.get_sheet_by_name(name)
            start, end = sheet.start, sheet.end
            if end is None or start is None:
                yield ("sheet", name, 0, 0, 0)
                continue
            trimmed = name in request["trimmed"]
            top, left = (0, 0) if trimmed else start
            height, width = end[0] + 1 - (start[0] if trimmed else 0), end[1] + 1 - (start[1] if trimmed else 0)
            if height * width > request["max_cells"]:
                corner = f"{column_name(end[1] + 1)}{end[0] + 1}"
                yield ("refused", "imports.excel.too_many_cells", {
                    "source": source, "name": name, "corner": corner, "height": height, "width": width,
                    "cells": height * width, "limit": request["max_cells"]})
                return
            values = sheet.to_python(skip_empty_area=True)
        except BaseException as exc:  # as above
            if isinstance(exc, MemoryError | KeyboardInterrupt | SystemExit):
                raise
            yield ("refused", "imports.excel.sheet_unreadable", {"source": source, "name": name, "exc": str(exc)})
            return
        yield ("sheet", name, top, left, width)
        for first in range(0, len(values), BATCH_ROWS):
            batch = values[first:first + BATCH_ROWS]
            values[first:first + BATCH_ROWS] = [None] * len(batch)  # let the sent rows go
            yield ("rows", name, [[cell_text(v) for v in row] for row in batch] if request["as_text"] else batch)
    yield ("done",)


def main() -> None:
    request = pickle.load(sys.stdin.buffer)
    _limit_memory(request["memory_bytes"])
    out = sys.stdout.buffer
    try:
        for message in _messages(request):
            pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        sys.stderr.write("MemoryError\n")
        sys.stderr.flush()
        os._exit(3)
    out.flush()


if __name__ == "__main__":
    main()
