"""Imports as background jobs: POST a file → job id; GET the job for progress, result or row errors."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from attain.auth.models import User
from attain.errors import InvalidInput
from attain.imports.fields import KINDS, fields_for, parse_mapping
from attain.web import jobs
from attain.web.api.common import ERROR_RESPONSES, refusals
from attain.web.deps import CurrentUser, SessionDep
from attain.web.permissions import require_permission
from attain.web.upload_guard import BodyTooLarge, max_upload_bytes

router = APIRouter(tags=["imports"], responses=ERROR_RESPONSES)
UPLOAD_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")


def upload_dir() -> Path:
    """Where uploads wait for their job (ATTAIN_UPLOAD_DIR; must be shared with RQ workers)."""
    folder = Path(os.environ.get("ATTAIN_UPLOAD_DIR") or Path(tempfile.gettempdir()) / "attain-uploads")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _safe_name(filename: str | None) -> str:
    name = Path((filename or "upload.csv").replace("\\", "/")).name.strip()
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"|?*')[:120]
    return name if name and name not in (".", "..") else "upload.csv"


async def save_upload(upload: UploadFile) -> Path:
    """Store the upload as <upload dir>/<random>/<its own name> (so messages name the user's file).
    The body was capped while it arrived (upload_guard); a file over the cap is 413 here too."""
    limit = max_upload_bytes()
    name = _safe_name(upload.filename)
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InvalidInput.coded("import.not_table", name=name, suffixes=", ".join(UPLOAD_SUFFIXES))
    folder = upload_dir() / uuid.uuid4().hex
    folder.mkdir()
    target = folder / name
    size = 0
    with target.open("wb") as out:
        while chunk := await upload.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                break
            out.write(chunk)
    if size == 0 or size > limit:
        discard_upload(target)
        if size == 0:
            raise InvalidInput.coded("import.empty_file", name=name)
        raise BodyTooLarge(limit)
    return target


def discard_upload(path: Path) -> None:
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()
    except OSError:
        pass


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput.coded("import.unknown_kind", kind=kind[:40], kinds=", ".join(KINDS))
    return kind


@router.post("/imports", status_code=202, summary="Import a file (background job)",
             responses={202: {"description": "Job queued; poll GET /api/v1/jobs/{id}"},
                        413: {"description": "The file is larger than ATTAIN_MAX_UPLOAD_MB (default 200)"},
                        **refusals({"import.not_table": f"the file's name does not end in {', '.join(UPLOAD_SUFFIXES)}",
                                    "import.empty_file": "the file is empty"})})
async def post_import(
    request: Request, session: SessionDep, user: Annotated[User, Depends(require_permission("import"))],
    kind: Annotated[str, Form(max_length=32, json_schema_extra={"enum": list(KINDS)}, description=f"One of {', '.join(KINDS)}")],
    file: Annotated[UploadFile, File(description="CSV or Excel file")],
    mapping: Annotated[list[str] | None, Form(description="field=Column overrides (repeatable); the fields of each kind are "
                                                          "listed in the request body's oneOf")] = None,
    sheet: Annotated[str | None, Form(max_length=100)] = None,
) -> JSONResponse:
    """Queue an all-or-nothing import; the job reports progress, the result or every bad row."""
    check_kind(kind)
    pairs = [m for m in (mapping or []) if m.strip()]
    parse_mapping(pairs, kind)  # a bad --map is a 422 now, not a failed job later
    await run_in_threadpool(jobs.purge_stale_uploads, session=session)
    path = await save_upload(file)
    job = jobs.submit(session=session, kind="import", user_id=user.id, database_url=request.app.state.database_url,
                      params={"kind": kind, "path": str(path), "mapping": pairs, "sheet": sheet,
                              "filename": path.name, "delete_after": True})
    return JSONResponse(jobs.job_dict(job), status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})


def document_mapping(openapi: dict[str, Any]) -> None:
    """Add to the OpenAPI document what `mapping` accepts for each `kind`: `field=Column` (or
    `field=ColA+ColB`) with a field of that kind (attain.imports.fields), or a blank entry (ignored).
    A parameter schema cannot say that one form field depends on another; the body's oneOf can."""
    body = openapi["paths"]["/api/v1/imports"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    target = openapi["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    target["oneOf"] = [{"properties": {
        "kind": {"const": kind},
        "mapping": {"type": "array", "items": {"type": "string", "pattern": (  # absent, not null: a form has no null
            r"^\s*$|^\s*(" + "|".join(sorted(f.name for f in fields_for(kind))) + r")\s*=.*\S")}},
    }} for kind in KINDS]


@router.get("/jobs/{job_id}", summary="A background job's status")
def get_job(session: SessionDep, user: CurrentUser,
            job_id: Annotated[str, PathParam(min_length=1, max_length=32, pattern="^[0-9a-f]+$")]) -> dict[str, Any]:
    """Status (queued, running, succeeded, failed), progress 0-100, message, error and result.
    A failed import lists its row errors in `result.errors`. Your own jobs only (admins: all)."""
    job = jobs.require_job(session=session, job_id=job_id, user_id=user.id, is_admin=user.role == "admin")
    return jobs.job_dict(job)


@router.get("/jobs", summary="Your recent jobs")
def list_jobs(session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    return [jobs.job_dict(j) for j in jobs.recent_jobs(session=session, user_id=None if user.role == "admin" else user.id)]
