"""Accounts: passwords, invitations, tokens, language. Services flush; the request commits."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from salon.accounts.models import ApiToken, Invitation, Role, User  # Role: what the rooms name roles with
from salon.audit import services as audit
from salon.clock import utcnow
from salon.errors import Conflict, NotFound, ValidationFailed, clean_text
from salon.database import as_id, lock_programme
from salon.extensions import db

if TYPE_CHECKING:
    from salon.programmes.models import Programme

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,39}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "sln_"
LOCALES = ("zh_Hans", "en")


def check_username(username: str) -> str:
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise ValidationFailed(
            _("Use 3 to 40 lower-case letters, digits, dots, dashes or underscores."), "username"
        )
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(_("This username is taken."), "username")
    return username


def check_display_name(name: str) -> str:
    return clean_text(name, "display_name", 80, required=True, required_message=_("Enter a name."))


def check_password(password: str, confirm: str | None = None) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed(_("At least %(n)d characters.", n=MIN_PASSWORD), "password")
    if len(password) > 200:
        raise ValidationFailed(_("At most 200 characters."), "password")
    if confirm is not None and confirm != password:
        raise ValidationFailed(_("The two passwords differ."), "confirm")
    return password


def create_user(programme: Programme, role: Role, username: str, display_name: str,
                password: str | None = None) -> User:
    user = User(
        programme_id=programme.id,
        username=check_username(username),
        display_name=check_display_name(display_name),
        role=role,
        password_hash=hash_password(check_password(password)) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config.get("SALON_PASSWORD_METHOD", "scrypt"))


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if user is None or not user.active or not user.password_hash:
        # Spend the same time whether or not the account exists.
        check_password_hash(_DUMMY_HASH(), password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


_dummy: list[str] = []


def _DUMMY_HASH() -> str:  # noqa: N802 - computed once, lazily
    if not _dummy:
        _dummy.append(hash_password(secrets.token_hex(8)))
    return _dummy[0]


# --- invitations -------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="salon.invitation")


def invite(user: User, by: User | None) -> str:
    """Revoke the person's open invitations and issue a fresh one; return its signed token."""
    lock_programme(user.programme_id)  # lock order: salon/database.py
    now = utcnow()
    db.session.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None), Invitation.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    days = user.programme.invitation_days
    invitation = Invitation(
        programme_id=user.programme_id, user_id=user.id, created_by_id=getattr(by, "id", None),
        created_at=now, expires_at=now + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(user.programme_id, by, "invitation.issue", user, username=user.username, days=days)
    return _serializer().dumps({"i": invitation.id, "n": secrets.token_hex(4)})


def open_invitation(token: str) -> Invitation:
    """The invitation behind a link, or a NotFound saying why it no longer works."""
    try:
        data = _serializer().loads(token, max_age=60 * 60 * 24 * 366)
    except SignatureExpired:
        raise NotFound(_("This invitation link has expired. Ask the bureau for a new one."), "token")
    except BadSignature:
        raise NotFound(_("This invitation link is not valid."), "token")
    invitation_id = as_id(data.get("i")) if isinstance(data, dict) else None
    invitation = db.session.get(Invitation, invitation_id) if invitation_id else None
    if invitation is None:
        raise NotFound(_("This invitation link is not valid."), "token")
    if invitation.used_at is not None:
        raise NotFound(_("This invitation link has already been used."), "token")
    if invitation.revoked_at is not None:
        raise NotFound(_("This invitation link was replaced by a newer one."), "token")
    if invitation.expires_at <= utcnow():
        raise NotFound(_("This invitation link has expired. Ask the bureau for a new one."), "token")
    if not invitation.user.active:
        raise NotFound(_("This account is no longer active."), "token")
    return invitation


def accept_invitation(token: str, password: str, confirm: str) -> User:
    invitation = open_invitation(token)
    check_password(password, confirm)
    lock_programme(invitation.programme_id)  # lock order: salon/database.py
    # Single use even under a race: only one request can flip used_at from NULL.
    claimed = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if claimed != 1:
        raise NotFound(_("This invitation link has already been used."), "token")
    user = invitation.user
    user.password_hash = hash_password(password)
    user.session_version += 1
    audit.record(user.programme_id, user, "invitation.accept", user)
    return user


def reset_account(user: User, by: User) -> str:
    """Forgotten password or a lost phone: the old password and sessions stop working."""
    lock_programme(user.programme_id)  # lock order: salon/database.py
    user.password_hash = None
    user.session_version += 1
    _revoke_all_tokens(user)
    audit.record(user.programme_id, by, "account.reset", user, username=user.username)
    return invite(user, by)


def invite_colleague(programme: Programme, by: User, username: str, display_name: str) -> tuple[User, str]:
    lock_programme(programme.id)  # lock order: salon/database.py
    user = create_user(programme, Role.BUREAU, username, display_name)
    audit.record(programme.id, by, "account.create", user, username=user.username, role="bureau")
    return user, invite(user, by)


def set_locale(user: User | None, locale: str) -> str:
    if locale not in LOCALES:
        raise ValidationFailed(_("Unknown language."), "locale")
    if user is not None and user.is_authenticated:
        user.locale = locale
    return locale


# --- API tokens ----------------------------------------------------------------------------

# --- the bearer-token rule: one definition for every API route ------------------------------------------
# A token has the form TOKEN_PREFIX + 43 characters (at most TOKEN_MAX are read), arrives as
# `Authorization: Bearer <token>`, and speaks for its user while it is not revoked and the account is active.
# The API guard asks it through token_query (salon.accounts.auth: user_and_seat_for_token, token_holder, which
# add the seat held now from salon.programmes.services); the seat-only check of a ballot on PostgreSQL
# (auth.token_holder) reads the rows in plain SQL with TOKEN_JOIN_SQL and TOKEN_VALID_SQL.
TOKEN_MAX = 200
TOKEN_JOIN_SQL = "users AS u JOIN api_tokens AS t ON t.user_id = u.id"
TOKEN_VALID_SQL = "t.token_hash = %(token_hash)s AND t.revoked_at IS NULL AND u.active IS true"


def well_formed_token(raw: str | None) -> bool:
    return bool(raw) and raw.startswith(TOKEN_PREFIX) and len(raw) <= TOKEN_MAX


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header when it has a token's form, else None."""
    if not header or header[:7].lower() != "bearer ":
        return None
    raw = header[7:].strip()
    return raw if well_formed_token(raw) else None


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _valid_token():
    """TOKEN_VALID_SQL as SQLAlchemy criteria (the token hash a bound parameter `token_hash`)."""
    return (ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None), User.active.is_(True))


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    lock_programme(user.programme_id)  # lock order: salon/database.py
    name = clean_text(name, "name", 80, required=True,
                      required_message=_("Give the token a name, e.g. the tool that will use it."))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(programme_id=user.programme_id, user_id=user.id, name=name,
                     token_hash=hash_token(raw), prefix=raw[:10])
    db.session.add(token)
    db.session.flush()
    audit.record(user.programme_id, user, "token.create", token, name=name)
    return token, raw


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)
    ))


def revoke_token(user: User, token_id: int) -> ApiToken:
    lock_programme(user.programme_id)  # lock order: salon/database.py
    token = db.session.get(ApiToken, as_id(token_id)) if as_id(token_id) else None
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound(_("No such token."), "token_id")
    token.revoked_at = utcnow()
    audit.record(user.programme_id, user, "token.revoke", token, name=token.name)
    return token


def _revoke_all_tokens(user: User) -> None:
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def token_query(*columns):
    """A select of `columns` over the user a valid token speaks for, at most one row: TOKEN_JOIN_SQL and
    TOKEN_VALID_SQL as SQLAlchemy, the token's hash a bound parameter `token_hash`. A caller adds what else it
    reads in the same statement (the API guard: the seat held now, salon.accounts.auth)."""
    return select(*columns).join(ApiToken, ApiToken.user_id == User.id).where(*_valid_token()).limit(1)


def user_for_token(raw: str) -> User | None:
    if not well_formed_token(raw):
        return None
    return db.session.scalar(token_query(User), {"token_hash": hash_token(raw)})


def deactivate(user: User) -> None:
    user.active = False
    user.session_version += 1
    _revoke_all_tokens(user)
    db.session.execute(
        update(Invitation).where(Invitation.user_id == user.id, Invitation.used_at.is_(None),
                                 Invitation.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


def pending_invitations(programme_id: int, now: datetime):
    """How many of the programme's invitations wait to be accepted: a scalar subquery, for a page that asks
    for it in the same statement as other counts."""
    return select(func.count(Invitation.id)).where(
        Invitation.programme_id == programme_id, Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None), Invitation.expires_at > now).scalar_subquery()


def with_users(query, user_id):
    """query (another room's select) joined to the users its column `user_id` names, selecting each user after
    the query's columns, in one statement."""
    return query.add_columns(User).join(User, User.id == user_id)


def display_names(user_ids: list[int]) -> dict[int, str]:
    """User id → display name, in one query."""
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids or [0]))).all())


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def bureau_members(programme_id: int) -> list[User]:
    """The programme's active bureau accounts, oldest first (the trustees room names one of them trustee 1)."""
    return list(db.session.scalars(select(User).where(User.programme_id == programme_id, User.role == Role.BUREAU,
                                                      User.active.is_(True)).order_by(User.id)))


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: '<id>:<version>', so a reset or new password ends old sessions."""
    try:
        user_id, version = (int(x) for x in session_id.split(":"))
    except (ValueError, AttributeError):
        return None
    # Its programme comes in the same query: nearly every page shows it.
    user = db.session.get(User, user_id, options=[joinedload(User.programme)])
    if user is None or user.session_version != version or not user.active:
        return None
    return user
