"""Users, passwords (argon2), API tokens, browser sessions and the sign-in rate limit.

Secrets never reach the database in clear: passwords are argon2 hashes, API tokens and session
tokens are stored as SHA-256 digests (they are 256-bit random values, so a fast hash suffices).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from attain.auth.models import ROLES, ApiToken, LoginAttempt, User, WebSession
from attain.errors import Conflict, InvalidInput, NotFound
from attain.org.models import OrgNode
from attain.org.service import require_node

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~0.1 s a sign-in on a busy 2-core
# box, where argon2-cffi's default (64 MiB, 3 passes, 4 lanes) took ~0.75 s and set most of the 1 s
# goal from sign-in to a drawn dashboard. Hashes made with other parameters still verify and are
# rehashed with these at the next sign-in (`check_needs_rehash` in `authenticate`).
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Cheap hashes for test suites only (ATTAIN_PASSWORD_HASH=fast), as Django's tests use a fast hasher.
_FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _hasher() -> PasswordHasher:
    return _FAST_HASHER if os.environ.get("ATTAIN_PASSWORD_HASH") == "fast" else _HASHER
MIN_PASSWORD_LENGTH = 8
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=14)
LOCALES = ("zh_CN", "en")
# Which org node kinds each role may be attached to.
ROLE_NODE_KINDS = {"rep": ("rep",), "manager": ("team", "region"), "director": ("region", "company"), "admin": ()}


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.coded("auth.password_least_characters", min_password_length=MIN_PASSWORD_LENGTH)
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=2)
def _dummy_hash(fast: bool) -> str:
    """A hash of a random password with the current parameters, verified in place of a missing user's."""
    return (_FAST_HASHER if fast else _HASHER).hash(secrets.token_urlsafe(16))


def _check_password(user: User | None, password: str) -> bool:
    """Exactly one argon2 verification whatever the user: an unknown or inactive user costs as much
    as a wrong password (otherwise the answer's speed tells which usernames exist)."""
    if user is None:
        verify_password(_dummy_hash(os.environ.get("ATTAIN_PASSWORD_HASH") == "fast"), password)
        return False
    matches = verify_password(user.password_hash, password)
    return matches and user.active


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_user(*, session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def require_user(*, session: Session, username: str) -> User:
    user = get_user(session=session, username=username)
    if user is None:
        raise NotFound.coded("auth.user_named", username=username)
    return user


def list_users(*, session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def _resolve_node(session: Session, role: str, node_key: str | None) -> int | None:
    if role not in ROLES:
        raise InvalidInput.coded("auth.unknown_role_one", role=role, items=', '.join(ROLES))
    if role == "admin":
        if node_key:
            raise InvalidInput.coded("auth.admin_sees_everything_do")
        return None
    if not node_key:
        if role == "director":  # a director without a node heads the whole company
            root = session.scalar(select(OrgNode).where(OrgNode.parent_id.is_(None)).order_by(OrgNode.id))
            if root is None:
                raise InvalidInput.coded("auth.director_needs_organisation_import")
            return root.id
        flag = "--rep" if role == "rep" else "--node"
        raise InvalidInput.coded("auth.needs_code_say_whose", role=role, flag=flag)
    node = require_node(session=session, key=node_key)
    allowed = ROLE_NODE_KINDS[role]
    if node.kind not in allowed:
        raise InvalidInput.coded("auth.attached_but", role=role, items=' or '.join(allowed), code=node.code, kind=node.kind)
    return node.id


def create_user(
    *, session: Session, username: str, password: str, role: str, node_key: str | None = None,
    display_name: str | None = None, locale: str | None = None,
) -> User:
    """Add a user and commit. `node_key` is the code of their rep, team, region or company node."""
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise InvalidInput.coded("auth.username_characters_without_spaces", username=username)
    if get_user(session=session, username=username) is not None:
        raise Conflict.coded("auth.user_already_exists", username=username)
    if locale is not None and locale not in LOCALES:
        raise InvalidInput.coded("auth.unknown_locale_one", locale=locale, items=', '.join(LOCALES))
    node_id = _resolve_node(session, role, node_key)
    if display_name is None and node_id is not None and role == "rep":
        display_name = session.get(OrgNode, node_id).name  # type: ignore[union-attr]
    user = User(
        username=username, display_name=display_name or username, password_hash=hash_password(password),
        role=role, org_node_id=node_id, active=True, locale=locale,
    )
    session.add(user)
    session.commit()
    return user


def set_password(*, session: Session, user: User, password: str) -> None:
    """Change the password and sign the user out everywhere."""
    user.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.commit()


def set_active(*, session: Session, user: User, active: bool) -> None:
    user.active = active
    if not active:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.commit()


def set_locale(*, session: Session, user: User, locale: str) -> None:
    if locale not in LOCALES:
        raise InvalidInput.coded("auth.unknown_locale_one", locale=locale, items=', '.join(LOCALES))
    user.locale = locale
    session.commit()


# --- sign-in ---------------------------------------------------------------------------------------


class RateLimited(Conflict):
    """Too many failed sign-ins for this username from this address."""


def recent_failures(*, session: Session, username: str, ip: str) -> int:
    since = now() - LOGIN_WINDOW
    return session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.username == username[:64], LoginAttempt.ip == ip[:64], LoginAttempt.attempted_at >= since
        )
    ) or 0


def authenticate(*, session: Session, username: str, password: str, ip: str) -> User | None:
    """The active user with this password, or None (the failure is recorded). RateLimited after
    LOGIN_MAX_FAILURES failures for the same username and address within LOGIN_WINDOW.

    The attempt is counted before the password is checked, and atomically: its row is committed
    first, then the window is counted. Of any number of parallel attempts, the k-th to commit sees
    at least k rows, so no more than LOGIN_MAX_FAILURES passwords are checked per window however
    many requests arrive at once (a check-then-record order let a burst of 20 check 19)."""
    username = username.strip()
    attempt = LoginAttempt(username=username[:64], ip=ip[:64], attempted_at=now())
    session.add(attempt)
    session.commit()
    if recent_failures(session=session, username=username, ip=ip) > LOGIN_MAX_FAILURES:
        # A refused attempt does not count (the lockout runs from the last checked failure).
        session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt.id))
        session.commit()
        minutes = int(LOGIN_WINDOW.total_seconds() // 60)
        raise RateLimited.coded("auth.too_many_failed_sign", username=username, minutes=minutes)
    user = get_user(session=session, username=username)
    if not _check_password(user, password) or user is None:
        # The attempt's row stays as the recorded failure; old attempts are of no use to the limit.
        session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now() - LOGIN_WINDOW))
        session.commit()
        return None
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == username[:64], LoginAttempt.ip == ip[:64]))
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    session.commit()
    return user


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: datetime


def start_session(*, session: Session, user: User) -> NewSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now() + SESSION_LIFETIME
    session.add(WebSession(token_hash=digest(token), user_id=user.id, csrf_token=csrf, created_at=now(), expires_at=expires))
    session.execute(delete(WebSession).where(WebSession.expires_at < now()))
    session.commit()
    return NewSession(token, csrf, expires)


def _keep_node(session: Session, node: OrgNode | None) -> None:
    """Hold the user's org node for the session's life: the identity map only keeps weak references,
    and `attain.auth.access` finds the node there (`session.get`) instead of querying it again."""
    if node is not None:
        session.info["attain.user_node"] = node


def session_user(*, session: Session, token: str) -> tuple[User, WebSession] | None:
    """The active user of an unexpired browser session, with their org node loaded into `session`
    by the same query (the access check then needs no query of its own)."""
    row = session.execute(
        select(User, WebSession, OrgNode).join(WebSession, WebSession.user_id == User.id)
        .outerjoin(OrgNode, OrgNode.id == User.org_node_id)
        .where(WebSession.token_hash == digest(token), WebSession.expires_at >= now(), User.active.is_(True))
    ).first()
    if row is None:
        return None
    _keep_node(session, row[2])
    return (row[0], row[1])


def end_session(*, session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))
    session.commit()


# --- API tokens ------------------------------------------------------------------------------------

TOKEN_PREFIX = "att_"


TOKEN_DAYS = 90  # default lifetime of a new API token
TOKEN_MAX_DAYS = 3650


def create_token(*, session: Session, user: User, name: str = "cli", days: int = TOKEN_DAYS) -> str:
    """A new API token for `user`, valid for `days` days (1-3650); the clear text is returned once
    and only its digest is kept."""
    if not 1 <= days <= TOKEN_MAX_DAYS:
        raise InvalidInput.coded("auth.token_lives_days", token_max_days=TOKEN_MAX_DAYS, days=days)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=digest(token), name=name[:100], created_at=now(),
                         expires_at=now() + timedelta(days=days)))
    session.commit()
    return token


def token_expiry(*, session: Session, token: str) -> datetime | None:
    """When the token expires (None for an unknown token)."""
    return session.scalar(select(ApiToken.expires_at).where(ApiToken.token_hash == digest(token)))


def token_user(*, session: Session, token: str) -> User | None:
    """The active user holding this unexpired API token, read from the database on every call (a
    revoked or expired token or a deactivated user stops working at once; a token without an expiry
    is one made before expiry existed and given one by migration 0015). One query on the unique token hash; it also
    loads the user's org node into `session`, so the access check needs no query of its own."""
    row = session.execute(
        select(User, OrgNode, ApiToken.id, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .outerjoin(OrgNode, OrgNode.id == User.org_node_id)
        .where(ApiToken.token_hash == digest(token), User.active.is_(True),
               (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now()))
    ).first()
    if row is None:
        return None
    user, node, token_id, used = row
    _keep_node(session, node)
    if used is None or used < now() - timedelta(minutes=1):  # at most one write a minute per token
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now()))
        session.commit()
    return user  # type: ignore[no-any-return]


def revoke_tokens(*, session: Session, user: User) -> int:
    count = session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount
    session.commit()
    return count or 0


# --- demo users ------------------------------------------------------------------------------------

# (username, password, role, node code or None for "the demo's own choice") — documented in docs/web.md.
DEMO_USERS = (
    ("admin", "admin-demo-1", "admin", None),
    ("director", "director-demo-1", "director", "COMPANY"),
    ("manager", "manager-demo-1", "manager", "EAST-T1"),
    ("rep", "rep-demo-1", "rep", "R002"),
)


def ensure_demo_users(*, session: Session) -> list[str]:
    """One user per role for the demo company (skipped when the user or its node is missing)."""
    created = []
    codes = dict(session.execute(select(OrgNode.code, OrgNode.id)).all())
    for username, password, role, code in DEMO_USERS:
        if get_user(session=session, username=username) is not None or (code and code not in codes):
            continue
        if role == "director" and code not in codes:
            code = None
        display = None
        if role == "manager" and code:
            team = session.get(OrgNode, codes[code])
            head = session.get(OrgNode, team.manager_id) if team and team.manager_id else None
            display = head.name if head else None
        elif role == "director":
            top = session.get(OrgNode, codes[code]) if code else None
            head = session.get(OrgNode, top.manager_id) if top and top.manager_id else None
            display = head.name if head else None
        create_user(session=session, username=username, password=password, role=role, node_key=code,
                    display_name=display or {"admin": "管理员"}.get(role))
        created.append(username)
    return created
