"""The catalogue of coded messages (attain.messages): English for the CLI, a template per code that
the web translates, and recognition of messages stored as English text."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo

from attain.errors import Conflict, ImportRejected, InvalidInput, RowError
from attain.messages import MESSAGES, english, recognise
from attain.web import i18n

FIELDS = re.compile(r"\{(\w+)(?::[^{}]*)?\}")
FORMATTED = re.compile(r"\{(\w+):[^{}]*\}")


def _sample(template: str) -> dict[str, object]:
    numbers = set(FORMATTED.findall(template))  # "{count:,}" takes a number
    return {name: 12345 + i if name in numbers else f"<{name}{i}>" for i, name in enumerate(FIELDS.findall(template))}


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_english_message_is_recognised_as_its_code(code: str) -> None:
    if len(re.findall(r"[A-Za-z]", FIELDS.sub("", MESSAGES[code]))) < 3:
        pytest.skip("fields alone ('{source}: {sheet_label} {message}') would match any text; not recognised")
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


# --- every service error is coded ------------------------------------------------------------------

SRC = Path(__file__).resolve().parents[1] / "src" / "attain"
ERRORS = {"AttainError", "NotFound", "InvalidInput", "Conflict", "NotAllowed", "ImportRejected", "RateLimited",
          "TreeTooDeep", "ImportBusy"}
# Modules whose errors no web user meets, with the reason. The CLI-only ones are checked below: nothing
# under attain.web imports them (directly or through another module).
CLI_ONLY = {
    "cli": "the command line (Typer); prints str(exc) in English, has its own --lang",
    "split/spec.py": "the JSON spec of `attain split`, read by the CLI only",
    "plans/matrix.py": "`attain plan import-edits` (an edited plan workbook), CLI only",
    "demo": "`attain demo` builds the demo company from the CLI",
}
ELSEWHERE = {
    "incentives": "converted with the incentive statements' work (issue 19 follow-up); remove this entry with it",
}


def _exempt(path: Path) -> bool:
    relative = path.relative_to(SRC).as_posix()
    return any(relative == key or relative.startswith(key + "/") for key in CLI_ONLY | ELSEWHERE)


def _uncoded_raises(source: str) -> list[int]:
    """Lines raising an Attain error built without a code (`X("text")` rather than `X.coded(...)`)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
            continue
        func = node.exc.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name in ERRORS and not any(k.arg == "code" and not (isinstance(k.value, ast.Constant) and k.value.value is None)
                                      for k in node.exc.keywords):
            lines.append(node.lineno)
    return lines


def test_every_service_error_is_coded() -> None:
    """A web user meets every error in their language, so every Attain error raised outside the CLI-only
    modules carries a code of attain.messages (`InvalidInput.coded("code", **params)`)."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts or _exempt(path):
            continue
        source = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(SRC)}:{line}" for line in _uncoded_raises(source)]
        for code in re.findall(r"\.coded\(\s*f?[\"']([\w.{}]+)[\"']", source):
            if "{" in code:  # f"split.infeasible_{cause}": each value is checked where it is written
                continue
            assert code in MESSAGES, f"{path.relative_to(SRC)}: code {code} is not in attain.messages"
    assert not found, "uncoded errors (raise X.coded(...) with the code in attain/messages.py):\n" + "\n".join(found)


def test_the_check_finds_an_uncoded_error() -> None:
    assert _uncoded_raises("raise InvalidInput(f'{x} is bad')\nraise errors.NotFound('gone')") == [1, 2]
    assert _uncoded_raises("raise InvalidInput.coded('plan.exists', name=x)\nraise ImportRejected(None, e, code='c')") == []
    assert _uncoded_raises("raise Conflict('text', code=None)") == [1]


def test_the_cli_only_modules_are_not_imported_by_the_web() -> None:
    """The allow-list above is honest: no module under attain.web reaches a CLI-only module by imports."""
    modules = {}
    for path in SRC.rglob("*.py"):
        name = "attain." + ".".join(path.relative_to(SRC).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    def imports(name: str) -> set[str]:
        path = modules[name]
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target:
                    found.add(target)
        return found
    seen, stack = set(), [name for name in modules if name.startswith("attain.web")]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(imports(name) - seen)
    cli_only = ["attain." + key.removesuffix(".py").replace("/", ".") for key in CLI_ONLY]
    reached = sorted(name for name in seen for key in cli_only if name == key or name.startswith(key + "."))
    assert not reached, f"the web imports modules listed as CLI-only: {reached}"
