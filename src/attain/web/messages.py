"""Errors and stored messages in the page's language.

A coded `AttainError` (attain.messages) is shown as its translated template filled with its
parameters; an uncoded one, or a message stored as English text (an import job's error, row
errors and warnings), is recognised by its template when one fits and translated the same way.
Anything else is shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from attain.messages import MESSAGES, fill, recognise

Gettext = Callable[[str], str]


def _param(value: object, gettext: Gettext) -> object:
    # A parameter can be a stored English message itself ("3 problems in ").
    if isinstance(value, str) and value:
        return translate_text(value, gettext)
    return value


def translate(code: str, params: dict[str, object], gettext: Gettext) -> str:
    return fill(gettext(MESSAGES[code]), {k: _param(v, gettext) for k, v in params.items()}, gettext)


def translate_text(text: str, gettext: Gettext) -> str:
    """A stored English message in the catalogue's language (unchanged when no template fits)."""
    found = recognise(text)
    if found is None:
        return gettext(text) if text else text  # a plain message id ("Not found"), or the text itself
    code, params = found
    return fill(gettext(MESSAGES[code]), {k: _param(v, gettext) if v != text else v for k, v in params.items()}, gettext)


def error_message(error: BaseException, gettext: Gettext) -> str:
    code = getattr(error, "code", None)
    if code in MESSAGES:
        return translate(code, getattr(error, "params", {}), gettext)
    return translate_text(str(error), gettext)


def error_text(request: Request, error: BaseException) -> str:
    """What a page shows in place of `str(exc)`: the error in the request's language."""
    from attain.web.i18n import request_locale
    from attain.web.pages.common import (
        catalogue,  # late: pages import this module's neighbours
    )

    return error_message(error, catalogue(request_locale(request)).gettext)
