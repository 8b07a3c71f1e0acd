"""The one error hierarchy of Attain.

Domain code raises these with a message a sales manager can act on. The web layer maps each class
to an HTTP status once (`attain.web.errors`), the CLI prints the message and exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass


class AttainError(Exception):
    """Base class for every error Attain reports to a user."""


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

    def __init__(self, message: str, errors: list[RowError]):
        super().__init__(message)
        self.errors = errors
