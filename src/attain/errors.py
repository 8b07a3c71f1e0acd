"""The one error hierarchy of Attain.

Domain code raises these with a message a sales manager can act on. The web layer maps each class
to an HTTP status once (`attain.web.errors`), the CLI prints the message and exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self


class AttainError(Exception):
    """Base class for every error Attain reports to a user.

    `code` names the message in `attain.messages` and `params` fills its template: the web shows it
    in the page's language. `str(exc)` stays the English text (the CLI, logs and the JSON API); when
    no message is given it is the code's English template filled in, and a message given with a code
    may say more for the CLI (e.g. which command to run) than the web text does.
    """

    def __init__(self, message: str | None = None, *args: object, code: str | None = None,
                 params: dict[str, object] | None = None):
        self.code = code
        self.params = dict(params or {})
        if message is None and code is not None:
            from attain.messages import english

            message = english(code, self.params)
        super().__init__(*((message,) if message is not None else ()), *args)

    @classmethod
    def coded(cls, code: str, message: str | None = None, /, **params: object) -> Self:
        """`raise InvalidInput.coded("amount.not_yuan", what=..., text=...)`."""
        return cls(message, code=code, params=params)


class NotFound(AttainError):
    """A plan, rep, customer or other record does not exist."""


class InvalidInput(AttainError):
    """The user gave something we cannot use (bad spec, bad option, bad file)."""


class Conflict(AttainError):
    """The request contradicts the stored state (locked plan, duplicate name)."""


class NotAllowed(AttainError):
    """The user's role or scope does not allow this (a manager approving, a team revising the company)."""


@dataclass(frozen=True)
class RowError:
    """One problem in one row of an imported file. `line` is the 1-based line in the file."""

    line: int
    column: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "message": self.message}


class ImportRejected(InvalidInput):
    """An import found bad rows; nothing was written. `errors` lists every bad row."""

    def __init__(self, message: str | None, errors: list[RowError], *, code: str | None = None,
                 params: dict[str, object] | None = None):
        super().__init__(message, code=code, params=params)
        self.errors = errors
