"""Map Attain's errors to HTTP statuses once, for every route."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from attain.errors import AttainError, Conflict, ImportRejected, InvalidInput, NotFound

STATUS = {NotFound: 404, InvalidInput: 422, Conflict: 409}


def install(app: FastAPI) -> None:
    @app.exception_handler(AttainError)
    async def attain_error(_request: Request, exc: AttainError) -> JSONResponse:
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        body: dict[str, object] = {"detail": str(exc)}
        if isinstance(exc, ImportRejected):
            body["errors"] = [e.as_dict() for e in exc.errors[:1000]]
        return JSONResponse(body, status_code=status)
