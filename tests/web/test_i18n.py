"""Languages: catalogue completeness, locale choice, the switch, and 万/亿 amounts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_python
from babel.messages.mofile import read_mo
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from attain.web import i18n
from attain.web.app import create_app

WEB = Path(i18n.__file__).parent


@pytest.mark.parametrize(
    ("fen", "zh", "en"),
    [
        (0, "0", "0"),
        (999_99, "1,000", "1,000"),
        (1_234_00, "1,234", "1,234"),
        (10_000_00, "1万", "10,000"),
        (1_234_500_00, "123.45万", "1,234,500"),
        (1_200_000_00, "120万", "1,200,000"),
        (99_999_999_99, "1亿", "100,000,000"),
        (999_950, "1万", "10,000"),
        (999_949, "9,999", "9,999"),
        (100_000_000_00, "1亿", "100,000,000"),
        (273_610_000_00, "2.74亿", "273,610,000"),
        (-5_000_000_00, "-500万", "-5,000,000"),
        (None, "—", "—"),
    ],
)
def test_amounts_in_wan_and_yi_in_chinese_and_separators_in_english(fen: int | None, zh: str, en: str) -> None:
    assert i18n.format_amount(fen, "zh_CN") == zh
    assert i18n.format_amount(fen, "en") == en


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_chinese_amounts_read_back_to_the_yuan_within_rounding(fen: int) -> None:
    text = i18n.format_amount(fen, "zh_CN")
    scale = Decimal(100_000_000) if text.endswith("亿") else Decimal(10_000) if text.endswith("万") else Decimal(1)
    number = Decimal(text.rstrip("亿万").replace(",", "")) * scale
    yuan = Decimal(fen) / 100
    tolerance = scale / 200 if scale > 1 else Decimal("0.5")
    assert abs(number - yuan) <= tolerance
    assert (number < 0) == (yuan <= Decimal("-0.5") if scale == 1 else yuan < 0) or number == 0


def test_percent_format() -> None:
    assert i18n.format_percent(Decimal("0.8734")) == "87.3%"
    assert i18n.format_percent(1.5) == "150.0%"
    assert i18n.format_percent(None) == "—"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"), ("zh-TW", "zh_CN"),
        ("fr-FR, en;q=0.5", "en"), ("en;q=0.2, zh;q=0.8", "zh_CN"), ("fr, de", None), ("", None),
        ("*", None), ("en;q=abc, zh", "zh_CN"), (";;;,,q=", None),
    ],
)
def test_accept_language(header: str, expected: str | None) -> None:
    assert i18n.from_accept_language(header) == expected


def test_every_message_in_the_templates_and_code_is_translated_into_chinese() -> None:
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = {message for folder in (WEB, WEB.parent / "auth") for _file, _line, message, *_rest in extract_from_dir(
        str(folder), method_map, options_map=options, keywords=keywords)}
    with (WEB.parent / "messages.py").open("rb") as handle:  # the coded messages of the services (attain.messages)
        found |= {m for _line, _function, m, _comments in extract_python(handle, keywords, [], {}) if isinstance(m, str)}
    ids = {m if isinstance(m, str) else m[0] for m in found}
    with (WEB / "locale/zh_CN/LC_MESSAGES/messages.mo").open("rb") as handle:
        catalogue = read_mo(handle)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id and m.string}
    missing = sorted(ids - translated)
    assert not missing, f"untranslated (run the pybabel commands in docs/web.md): {missing}"


def test_pages_follow_the_browser_and_the_switch(database_url: str) -> None:
    client = TestClient(create_app(database_url))
    assert "<h1>登录</h1>" in client.get("/login").text  # default zh_CN
    assert "<h1>Sign in</h1>" in client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    switched = client.get("/lang/en?next=/login", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    assert "attain_locale=en" in switched.headers["set-cookie"]
    page = client.get("/login", headers={"Accept-Language": "zh-CN"}).text
    assert "<h1>Sign in</h1>" in page and 'href="/lang/zh_CN' in page  # the cookie wins; a link back to 中文
    assert client.get("/lang/xx?next=https://evil.example", follow_redirects=False).headers["location"] == "/"
    client.get("/lang/zh_CN")
    assert "<h1>登录</h1>" in client.get("/login", headers={"Accept-Language": "en"}).text


def test_the_amount_filter_follows_the_locale(database_url: str) -> None:
    from starlette.requests import Request

    from attain.web.templating import TEMPLATES, page_context

    template = TEMPLATES.env.from_string("{{ 123450000 | amount }} {{ 1234 | num }} {{ 0.5 | pct }}")
    for header, expected in (("zh-CN", "123.45万 1,234 50.0%"), ("en", "1,234,500 1,234 50.0%")):
        request = Request({"type": "http", "headers": [(b"accept-language", header.encode())], "method": "GET",
                           "path": "/", "query_string": b"", "state": {}})
        assert template.render(page_context(request)) == expected
