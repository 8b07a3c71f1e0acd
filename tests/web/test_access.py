"""Row-level access: which org nodes each role sees, decided in one place (attain.auth.access)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.auth import access
from attain.auth import service as auth
from attain.errors import InvalidInput, NotFound
from attain.org.models import OrgNode

PASSWORD = "secret-pass-1"


def _codes(session: Session, user) -> set[str]:  # type: ignore[no-untyped-def]
    return {n.code for n in access.visible_nodes(session=session, user=user)}


def _filtered(session: Session, user) -> set[str]:  # type: ignore[no-untyped-def]
    clause = access.scope_filter(session=session, user=user, column=OrgNode.id)
    return set(session.scalars(select(OrgNode.code).where(clause)))


SCOPES = [
    ("admin", None, {"COMPANY", "EAST", "WEST", "T1", "T2", "W1", "R1", "R2", "R3", "R4"}),
    ("director", "EAST", {"EAST", "T1", "T2", "R1", "R2", "R3"}),
    ("director", "COMPANY", {"COMPANY", "EAST", "WEST", "T1", "T2", "W1", "R1", "R2", "R3", "R4"}),
    ("manager", "T1", {"T1", "R1", "R2"}),
    ("manager", "EAST", {"EAST", "T1", "T2", "R1", "R2", "R3"}),
    ("rep", "R1", {"R1"}),
]


def test_each_role_sees_its_subtree(org_session: Session) -> None:
    for number, (role, node, expected) in enumerate(SCOPES):
        user = auth.create_user(session=org_session, username=f"u{number}", password=PASSWORD, role=role, node_key=node)
        assert _codes(org_session, user) == expected, (role, node)
        assert _filtered(org_session, user) == expected, (role, node)


def test_a_rep_cannot_open_another_reps_node(org_session: Session) -> None:
    rep = auth.create_user(session=org_session, username="r1", password=PASSWORD, role="rep", node_key="R1")
    assert access.require_visible_node(session=org_session, user=rep, key="R1").code == "R1"
    with pytest.raises(NotFound, match="R2"):
        access.require_visible_node(session=org_session, user=rep, key="R2")
    with pytest.raises(NotFound):  # not even their own team
        access.require_visible_node(session=org_session, user=rep, key="T1")


def test_unknown_and_hidden_nodes_get_the_same_answer(org_session: Session) -> None:
    manager = auth.create_user(session=org_session, username="m", password=PASSWORD, role="manager", node_key="T1")
    with pytest.raises(NotFound) as hidden:
        access.require_visible_node(session=org_session, user=manager, key="R4")
    with pytest.raises(NotFound) as missing:
        access.require_visible_node(session=org_session, user=manager, key="R9")
    assert str(hidden.value).replace("R4", "X") == str(missing.value).replace("R9", "X")


def test_a_user_whose_node_is_gone_sees_nothing(org_session: Session) -> None:
    rep = auth.create_user(session=org_session, username="r1", password=PASSWORD, role="rep", node_key="R1")
    rep.org_node_id = None
    with pytest.raises(NotFound, match="not attached"):
        access.visible_nodes(session=org_session, user=rep)


MISFITS = [
    ("rep", None, "needs --rep"),
    ("rep", "T1", "a rep is attached to a rep, but T1 is a team"),
    ("manager", "R1", "R1 is a rep"),
    ("manager", None, "needs --node"),
    ("director", "T1", "T1 is a team"),
    ("admin", "R1", "sees everything"),
    ("boss", None, "unknown role"),
    ("rep", "NOPE", "NOPE"),
]


def test_user_roles_and_nodes_must_fit(org_session: Session) -> None:
    for role, node, message in MISFITS:
        with pytest.raises((InvalidInput, NotFound), match=message):
            auth.create_user(session=org_session, username="x", password=PASSWORD, role=role, node_key=node)
    assert auth.list_users(session=org_session) == []


def test_a_director_without_a_node_heads_the_company(org_session: Session) -> None:
    director = auth.create_user(session=org_session, username="d", password=PASSWORD, role="director")
    assert access.default_node(session=org_session, user=director).code == "COMPANY"


def test_passwords_are_hashed_and_checked(org_session: Session) -> None:
    user = auth.create_user(session=org_session, username="a", password=PASSWORD, role="admin")
    assert PASSWORD not in user.password_hash and user.password_hash.startswith("$argon2")
    assert auth.verify_password(user.password_hash, PASSWORD)
    assert not auth.verify_password(user.password_hash, PASSWORD + "x")
    assert not auth.verify_password("not a hash", PASSWORD)
    with pytest.raises(InvalidInput, match="at least 8"):
        auth.set_password(session=org_session, user=user, password="short")


def test_usernames_are_unique_and_without_spaces(org_session: Session) -> None:
    auth.create_user(session=org_session, username="a", password=PASSWORD, role="admin")
    with pytest.raises(Exception, match="already exists"):
        auth.create_user(session=org_session, username="a", password=PASSWORD, role="admin")
    with pytest.raises(InvalidInput, match="without spaces"):
        auth.create_user(session=org_session, username="a b", password=PASSWORD, role="admin")


def test_api_tokens_are_stored_as_digests(org_session: Session) -> None:
    user = auth.create_user(session=org_session, username="a", password=PASSWORD, role="admin")
    token = auth.create_token(session=org_session, user=user)
    from attain.auth.models import ApiToken

    stored = org_session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and stored == [auth.digest(token)]
    assert auth.token_user(session=org_session, token=token).id == user.id  # type: ignore[union-attr]
    assert auth.token_user(session=org_session, token=token + "x") is None
    auth.set_active(session=org_session, user=user, active=False)
    assert auth.token_user(session=org_session, token=token) is None
