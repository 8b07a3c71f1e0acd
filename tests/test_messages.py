"""The catalogue of coded messages (attain.messages): English for the CLI, a template per code that
the web translates, and recognition of messages stored as English text."""

from __future__ import annotations

import re

import pytest
from babel.messages.mofile import read_mo

from attain.errors import Conflict, ImportRejected, InvalidInput, RowError
from attain.messages import MESSAGES, english, recognise
from attain.web import i18n

FIELDS = re.compile(r"\{(\w+)\}")


def _sample(template: str) -> dict[str, str]:
    return {name: f"<{name}{i}>" for i, name in enumerate(FIELDS.findall(template))}


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_english_message_is_recognised_as_its_code(code: str) -> None:
    params = _sample(MESSAGES[code])
    found = recognise(english(code, params))
    assert found is not None
    assert english(found[0], found[1]) == english(code, params)


def test_every_template_is_translated_with_the_same_fields() -> None:
    with (i18n.LOCALE_DIR / "zh_CN/LC_MESSAGES/messages.mo").open("rb") as handle:
        chinese = {m.id: m.string for m in read_mo(handle) if m.id}
    for code, template in MESSAGES.items():
        assert chinese.get(template), f"{code} has no Chinese"
        assert sorted(FIELDS.findall(chinese[template])) == sorted(FIELDS.findall(template)), code


def test_a_coded_error_reads_as_english_for_the_cli() -> None:
    error = InvalidInput.coded("amount.not_yuan", what="total", text="2O000")
    assert str(error) == "total '2O000' is not an amount in yuan (e.g. 12000000 or 1200万)"
    assert (error.code, error.params) == ("amount.not_yuan", {"what": "total", "text": "2O000"})


def test_a_cli_message_may_say_more_than_the_web_template() -> None:
    error = Conflict("reload the plan (attain plan versions P)", code="plan.moved_on", params={"plan": "P"})
    assert "attain plan versions" in str(error) and "attain" not in MESSAGES["plan.moved_on"]


def test_an_import_rejection_counts_its_rows_in_english() -> None:
    from attain.imports.columns import Columns
    from attain.imports.common import reject_if_errors

    columns = Columns.__new__(Columns)
    columns.errors = [RowError(2, "amount", "'x' is not a number")]
    with pytest.raises(ImportRejected) as raised:
        reject_if_errors(columns, "orders.csv")
    assert str(raised.value) == "orders.csv: 1 bad row; nothing was imported"
    assert raised.value.code == "import.rejected_one"
