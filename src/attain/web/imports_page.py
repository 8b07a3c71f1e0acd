"""The imports page: upload, auto-detected column mapping, preview, background run, row errors.

1. GET /imports — choose what the file holds and upload it.
2. POST /imports/preview — the file is saved, its header matched to fields (imports.fields.
   match_columns, the same rules as `attain import`), the first rows shown; every field's column
   can be changed.
3. POST /imports/run — queues the import job; the job page polls its progress and, when the file
   is rejected, lists every bad row. Imports are all-or-nothing: a rejected file writes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from attain.auth.models import Job, User
from attain.errors import InvalidInput, NotFound
from attain.imports.fields import KINDS, fields_for, header_score, match_columns
from attain.imports.reading import read_table
from attain.web import jobs
from attain.web.api.imports import (
    check_kind,
    discard_upload,
    save_upload,
    upload_dir,
)
from attain.web.deps import SessionDep
from attain.web.messages import error_text
from attain.web.permissions import require_permission
from attain.web.templating import render

router = APIRouter(include_in_schema=False)
ImportUser = Annotated[User, Depends(require_permission("import"))]  # the company's import_roles
PREVIEW_ROWS = 10
UPLOAD_NAME = re.compile(r"^[0-9a-f]{32}/[^/\\]+$")


def detect(kind: str, path: Path, overrides: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Header, per-field column (or None), the matching error if any, and the first rows."""
    table = read_table(path, header_score=header_score(kind))
    header = list(table.header)
    fields = fields_for(kind)
    error = None
    try:
        mapping = match_columns(kind, header, overrides or {})
    except InvalidInput as exc:
        error = exc  # shown in the page's language
        # Match again with a stand-in column per field so that the fields found still show.
        stand_ins = header + [f.name for f in fields]
        try:
            mapping = match_columns(kind, stand_ins, overrides or {})
        except InvalidInput:
            mapping = {}
    chosen = {f.name: "+".join(header[i] for i in mapping.get(f.name, []) if i < len(header)) or None for f in fields}
    rows = [list(table.rows[i]) for i in range(min(PREVIEW_ROWS, len(table.rows)))]
    return {"header": header, "fields": fields, "chosen": chosen, "error": error, "rows": rows,
            "row_count": len(table.rows), "lines": table.lines[:PREVIEW_ROWS], "encoding": table.encoding}


def _upload_path(upload: str) -> Path:
    if not UPLOAD_NAME.match(upload) or ".." in upload:
        raise InvalidInput.coded("import.expired")
    path = upload_dir() / upload
    if not path.is_file():
        raise InvalidInput.coded("import.expired")
    return path


@router.get("/imports")
def imports_page(request: Request, session: SessionDep, user: ImportUser) -> Response:
    recent = jobs.recent_jobs(session=session, user_id=None, limit=10)
    return render(request, "imports/index.html", {"kinds": KINDS, "recent": [j for j in recent if j.kind == "import"],
                                                  "error": None})


@router.post("/imports/preview")
async def preview(request: Request, session: SessionDep, user: ImportUser,
                  kind: Annotated[str, Form(max_length=32)], file: Annotated[UploadFile, File()]) -> Response:
    try:
        check_kind(kind)
        await run_in_threadpool(jobs.purge_stale_uploads, session=session)  # previews never run
        path = await save_upload(file)
    except InvalidInput as exc:
        recent = jobs.recent_jobs(session=session, user_id=None, limit=10)
        return render(request, "imports/index.html", {"kinds": KINDS, "recent": recent, "error": error_text(request, exc)},
                      status_code=422)
    try:
        found = await run_in_threadpool(detect, kind, path)
    except InvalidInput as exc:
        discard_upload(path)
        recent = jobs.recent_jobs(session=session, user_id=None, limit=10)
        return render(request, "imports/index.html", {"kinds": KINDS, "recent": recent, "error": error_text(request, exc)},
                      status_code=422)
    if found["error"] is not None:
        found["error"] = error_text(request, found["error"])
    return render(request, "imports/preview.html", {"kind": kind, "upload": f"{path.parent.name}/{path.name}",
                                                    "filename": path.name, **found})


@router.post("/imports/run")
async def run(request: Request, session: SessionDep, user: ImportUser) -> Response:
    form = await request.form()
    kind = check_kind(str(form.get("kind", "")))
    path = _upload_path(str(form.get("upload", "")))
    # Fields left on "(auto)" are matched by the import itself, exactly as in the preview.
    pairs = [f"{f.name}={value}" for f in fields_for(kind)
             if isinstance(value := form.get(f"map_{f.name}"), str) and value]
    job = jobs.submit(session=session, kind="import", user_id=user.id, database_url=request.app.state.database_url,
                      params={"kind": kind, "path": str(path), "mapping": pairs, "sheet": None, "filename": path.name,
                              "delete_after": True})
    return RedirectResponse(f"/imports/jobs/{job.id}", status_code=303)


def _job(session: SessionDep, user: User, job_id: str) -> Job:
    if not re.fullmatch(r"[0-9a-f]{1,32}", job_id):
        raise NotFound.coded("web.imports_page.job", job_id=job_id[:40])
    return jobs.require_job(session=session, job_id=job_id, user_id=user.id, is_admin=user.role == "admin")


@router.get("/imports/jobs/{job_id}")
def job_page(request: Request, session: SessionDep, user: ImportUser, job_id: str) -> Response:
    job = _job(session, user, job_id)
    return render(request, "imports/job.html", {"job": jobs.job_dict(job), "params": job.params or {}})


@router.get("/imports/jobs/{job_id}/status")
def job_status(request: Request, session: SessionDep, user: ImportUser, job_id: str) -> Response:
    """HTMX partial: progress while the job runs (polling itself), then the result or the row errors."""
    job = _job(session, user, job_id)
    return render(request, "imports/_status.html", {"job": jobs.job_dict(job), "params": job.params or {}})
