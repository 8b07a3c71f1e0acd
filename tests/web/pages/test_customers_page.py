"""The customers page searched and paged (issue 19), on SQLite and PostgreSQL: the search is by code or
name in SQL, pages of PAGE_SIZE rows, a page past the end shows the last one; the scores rank the
whole scope whatever the page or search."""

from __future__ import annotations

import re

from attain.web.pages.customers import PAGE_SIZE

DAY = "2026-11-20"


def _names(html: str) -> list[str]:
    body = html.split('data-testid="customers"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr><td>([^<]+)</td>", body)


def test_pages_of_fifty_in_order_of_amount(client_for) -> None:
    director = client_for("director")
    first = director.get(f"/customers?as_of={DAY}")
    second = director.get(f"/customers?as_of={DAY}&page=2")
    assert first.status_code == second.status_code == 200
    one, two = _names(first.text), _names(second.text)
    assert len(one) == len(two) == PAGE_SIZE and not set(one) & set(two)
    assert 'data-testid="next-page"' in first.text and 'data-testid="previous-page"' not in first.text
    pages = int(re.search(r"1 / (\d+)", first.text).group(1))  # type: ignore[union-attr]
    past = director.get(f"/customers?as_of={DAY}&page={pages + 5}")
    assert f"{pages} / {pages}" in past.text and 'data-testid="next-page"' not in past.text


def test_search_by_name_or_code_keeps_the_scores(client_for) -> None:
    director = client_for("director")
    whole = director.get(f"/customers?as_of={DAY}").text
    row = re.search(r"<tr><td>([^<]+)</td>.*?<td class=\"num\">(\d) (\d) (\d)</td>", whole.split("<tbody>", 4)[-1], re.DOTALL)
    assert row is not None
    name, scores = row.group(1), row.groups()[1:]
    found = director.get(f"/customers?as_of={DAY}", params={"q": name})
    assert _names(found.text) == [name]
    assert re.search(rf"<tr><td>{re.escape(name)}</td>.*?<td class=\"num\">{' '.join(scores)}</td>", found.text, re.DOTALL)
    assert _names(director.get(f"/customers?as_of={DAY}", params={"q": "%"}).text) == []  # a LIKE wildcard is text
    nothing = director.get(f"/customers?as_of={DAY}", params={"q": "no such customer"})
    assert nothing.status_code == 200 and _names(nothing.text) == [] and "0 / " not in nothing.text
    assert director.get(f"/customers?as_of={DAY}", params={"q": "x" * 101},
                        headers={"hx-request": "true"}).status_code == 422


def test_a_rep_searches_only_their_own_customers(client_for) -> None:
    rep = client_for("rep")
    own = _names(rep.get(f"/customers?as_of={DAY}").text)
    everyone = set()
    director = client_for("director")
    for page in (1, 2, 3):
        everyone |= set(_names(director.get(f"/customers?as_of={DAY}&page={page}").text))
    other = min(everyone - set(own))
    assert _names(rep.get(f"/customers?as_of={DAY}", params={"q": other}).text) == []
