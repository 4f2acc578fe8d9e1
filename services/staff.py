"""Staff accounts, their passwords and roles, the login lockout and sign-in sessions (no HTTP here).

Passwords are kept only as argon2id hashes (argon2-cffi's defaults, RFC 9106's second choice);
hashing and verifying run outside any database transaction, since SQLite holds its write lock for
the whole transaction. A session's token goes to the browser once; only its SHA-256 is stored, in
the services database, so every gateway replica sees the same sessions and a logout ends one
everywhere. Every sign-in, failed or refused sign-in, sign-out, forbidden call and account change
leaves an audit row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from core.settings import StaffSettings
from services import audit
from services.context import Context
from services.errors import Conflict, DomainError, InvalidInput, NotFound
from services.facade import Services
from services.identity import mask_text
from services.models import StaffAccount, StaffRole, StaffSession
from services.text import clean_text

ROLE_LABELS = {
    StaffRole.agent: "坐席",
    StaffRole.business: "业务",
    StaffRole.knowledge: "知识",
    StaffRole.analyst: "数据",
    StaffRole.auditor: "审计",
    StaffRole.admin: "管理员",
}
# 三员分立: whoever audits or administers accounts does nothing else.
SOLE_ROLES = frozenset({StaffRole.auditor, StaffRole.admin})
LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
# zxcvbn refuses longer input; 64 characters leave room for any passphrase a person types.
MAX_PASSWORD_CHARS = 64
COMMON_PASSWORDS_CHECKED = 1000
# zxcvbn's 0–4 scale: 3 is "safely unguessable: moderate protection from offline slow-hash attacks".
MIN_STRENGTH = 3
# Words every password here is likely to be built from; zxcvbn treats them as known.
LOCAL_WORDS = ("zunyi", "遵义", "zhengwu", "政务", "12345", "guiboshi", "贵博士")
# A busy console asks many times a minute; the idle clock need not move on every request.
TOUCH_EVERY = dt.timedelta(minutes=1)
ANONYMOUS = "anonymous"
WRONG_CREDENTIALS = "登录名或密码不正确。"


class StaffMember(BaseModel):
    login: str
    display_name: str
    roles: list[StaffRole]
    disabled: bool
    locked_until: dt.datetime | None
    created_at: dt.datetime
    password_changed_at: dt.datetime

    def has_any(self, roles: Iterable[StaffRole]) -> bool:
        return not set(self.roles).isdisjoint(roles)


class SignedIn(BaseModel):
    """Who a session belongs to, and the token every write of that session must echo."""

    member: StaffMember
    csrf_token: str
    expires_at: dt.datetime


class NewSession(SignedIn):
    token: str  # for the cookie only; the database keeps its hash


class LoginRefused(DomainError):
    """Wrong login name or password, or a disabled account; the failure's audit row stays."""

    code = "login_failed"
    keep_writes = True


class AccountLocked(LoginRefused):
    code = "account_locked"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def role_list(values: Iterable[str | StaffRole]) -> list[StaffRole]:
    """The roles named, in their fixed order, if they may go together on one account."""
    roles: set[StaffRole] = set()
    for value in values:
        try:
            roles.add(StaffRole(str(getattr(value, "value", value)).strip().lower()))
        except ValueError:
            choices = "、".join(f"{role.value}（{label}）" for role, label in ROLE_LABELS.items())
            raise InvalidInput(f"没有“{value}”这个角色，可选：{choices}。", field="roles") from None
    if not roles:
        raise InvalidInput("请至少指定一个角色。", field="roles")
    sole = roles & SOLE_ROLES
    if sole and len(roles) > 1:
        names = "、".join(ROLE_LABELS[role] for role in StaffRole if role in sole)
        raise InvalidInput(f"三员分立：{names}角色不能与其他角色兼任，请为此另建账号。", field="roles")
    return [role for role in StaffRole if role in roles]


def check_login(login: str) -> str:
    name = (login or "").strip().lower()
    if not LOGIN_PATTERN.match(name):
        raise InvalidInput(
            "登录名须为 2—32 位小写英文字母、数字或 . _ -，以字母或数字开头（例如工号 zy1023）。",
            field="login",
        )
    return name


def check_password(password: str, *, login: str, display_name: str, min_chars: int) -> str:
    """The password if the policy accepts it, else InvalidInput saying what to change."""
    if len(password) < min_chars:
        raise InvalidInput(f"密码至少需要{min_chars}个字符。", field="password")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidInput(f"密码不能超过{MAX_PASSWORD_CHARS}个字符。", field="password")
    if login and login.lower() in password.lower():
        raise InvalidInput("密码不能包含登录名。", field="password")
    if password.lower() in common_passwords():
        raise InvalidInput("这是最常被使用（也最先被猜）的密码之一，请换一个。", field="password")
    if zxcvbn(password, user_inputs=[login, display_name, *LOCAL_WORDS])["score"] < MIN_STRENGTH:
        raise InvalidInput(
            "密码太容易猜到（常见单词、姓名、键盘顺序、重复或连续的字符），请换一个更长、更无规律的密码，"
            "例如几个不相关的词加数字和符号。",
            field="password",
        )
    return password


@cache
def common_passwords() -> frozenset[str]:
    """The most common passwords of public breach corpora, as bundled (ranked) with zxcvbn."""
    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS_CHECKED])


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _decoy_hash() -> str:
    """Verified against when the login name is unknown, so the answer takes as long either way."""
    return _hasher().hash(secrets.token_urlsafe(16))


def _utf8(text: str) -> bytes:
    # JSON may carry a lone surrogate ("\udcff"); it must be a wrong password, not a crash.
    return text.encode("utf-8", "surrogatepass")


def _hash(password: str) -> str:
    return _hasher().hash(_utf8(password))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, _utf8(password))
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(_utf8(token)).hexdigest()


def _printable(text: str) -> str:
    """What was typed, fit for an audit row: no control characters, NULs or lone surrogates."""
    return "".join(char for char in text if char.isprintable())


def _member(account: StaffAccount) -> StaffMember:
    return StaffMember(
        login=account.login,
        display_name=account.display_name,
        roles=[StaffRole(role) for role in account.roles],
        disabled=account.disabled,
        locked_until=account.locked_until,
        created_at=account.created_at,
        password_changed_at=account.password_changed_at,
    )


class StaffDirectory:
    """Accounts and sessions on top of :class:`Services`' units of work (its clock included)."""

    def __init__(self, services: Services, settings: StaffSettings) -> None:
        self._services = services
        self.settings = settings

    # Accounts (the CLI, or an administrator)
    def add(
        self, login: str, display_name: str, roles: Iterable[str | StaffRole], password: str, *, actor: str
    ) -> StaffMember:
        name = check_login(login)
        display = clean_text(display_name, field="display_name", label="姓名", max_chars=60, required=True)
        granted = role_list(roles)
        password_hash = _hash(self._checked(password, name, display or ""))
        with self._services.unit() as (session, ctx):
            if session.scalar(select(StaffAccount.id).where(StaffAccount.login == name)) is not None:
                raise Conflict(f"登录名“{name}”已被使用。", field="login")
            account = StaffAccount(
                login=name,
                display_name=display,
                roles=[role.value for role in granted],
                password_hash=password_hash,
                disabled=False,
                failed_logins=0,
                locked_until=None,
                password_changed_at=ctx.now,
                created_at=ctx.now,
                updated_at=ctx.now,
            )
            session.add(account)
            try:
                session.flush()
            except IntegrityError:
                raise Conflict(f"登录名“{name}”已被使用。", field="login") from None
            self._audit(session, ctx, actor, "staff.add", name, "created", {"roles": account.roles})
            return _member(account)

    def reset_password(self, login: str, password: str, *, actor: str) -> StaffMember:
        """A new password; the lock goes and every session of the account ends."""
        with self._services.unit() as (session, _ctx):
            found = self._account(session, login)
            name, display = found.login, found.display_name
        password_hash = _hash(self._checked(password, name, display))
        with self._services.unit() as (session, ctx):
            account = self._account(session, name, lock=True)
            account.password_hash = password_hash
            account.password_changed_at = ctx.now
            account.failed_logins = 0
            account.locked_until = None
            account.updated_at = ctx.now
            self._end_sessions(session, ctx, account)
            self._audit(session, ctx, actor, "staff.reset_password", name, "reset")
            return _member(account)

    def set_disabled(self, login: str, disabled: bool, *, actor: str) -> StaffMember:
        """Disabling ends every session of the account at once."""
        with self._services.unit() as (session, ctx):
            account = self._account(session, login, lock=True)
            account.disabled = disabled
            account.updated_at = ctx.now
            if disabled:
                self._end_sessions(session, ctx, account)
            action = "staff.disable" if disabled else "staff.enable"
            self._audit(session, ctx, actor, action, account.login, "disabled" if disabled else "enabled")
            return _member(account)

    def accounts(self) -> list[StaffMember]:
        with self._services.unit() as (session, _ctx):
            return [
                _member(row) for row in session.scalars(select(StaffAccount).order_by(StaffAccount.login))
            ]

    # Sessions (the gateway)
    def sign_in(self, login: str, password: str, *, source: str | None = None) -> NewSession:
        """A new session for the right password; LoginRefused or AccountLocked otherwise.

        Wrong passwords in a row lock the account (lockout_failures), for lockout_minutes at first
        and twice as long after each further wrong password, up to lockout_max_minutes; attempts
        while locked are refused without looking at the password and are not counted.
        """
        name = (login or "").strip().lower()
        known = LOGIN_PATTERN.match(name) is not None
        detail = {"source": source} if source else {}
        with self._services.unit() as (session, ctx):
            account = self._find(session, name) if known else None
            if account is None:
                stored = None
            else:
                self._refuse_if_locked(session, ctx, account, detail)
                stored = account.password_hash
        correct = _verify(stored or _decoy_hash(), password) and stored is not None
        # Hashing parameters raised since this password was set: store it under the new ones.
        new_hash = _hash(password) if stored and correct and _hasher().check_needs_rehash(stored) else None
        with self._services.unit() as (session, ctx):
            account = self._find(session, name, lock=True) if known else None
            if account is None:
                # Someone may type an ID or phone number into the login box: mask it like any detail.
                target = mask_text(_printable(name))[:64] or None
                self._audit(session, ctx, ANONYMOUS, "staff.login", target, "unknown_login", detail)
                raise LoginRefused(WRONG_CREDENTIALS)
            self._refuse_if_locked(session, ctx, account, detail)
            if not correct:
                self._refuse_wrong_password(session, ctx, account, detail)
            if account.disabled:
                self._audit(session, ctx, ANONYMOUS, "staff.login", account.login, "disabled", detail)
                raise LoginRefused("该账号已停用，请联系管理员。")
            account.failed_logins = 0
            account.locked_until = None
            if new_hash:
                account.password_hash = new_hash
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            expires = ctx.now + dt.timedelta(hours=self.settings.absolute_hours)
            session.execute(
                delete(StaffSession).where(
                    StaffSession.account_id == account.id,
                    or_(StaffSession.expires_at <= ctx.now, StaffSession.revoked_at.is_not(None)),
                )
            )
            session.add(
                StaffSession(
                    token_hash=_digest(token),
                    account_id=account.id,
                    csrf_token=csrf,
                    created_at=ctx.now,
                    last_seen_at=ctx.now,
                    expires_at=expires,
                    revoked_at=None,
                )
            )
            self._audit(session, ctx, account.login, "staff.login", account.login, "ok", detail)
            return NewSession(member=_member(account), csrf_token=csrf, expires_at=expires, token=token)

    def resolve(self, token: str) -> SignedIn | None:
        """The live session of ``token``: not revoked, not idle too long, not past its end, its
        account not disabled; None otherwise."""
        if not token:
            return None
        idle = dt.timedelta(minutes=self.settings.idle_minutes)
        with self._services.unit() as (session, ctx):
            row = session.get(StaffSession, _digest(token))
            if row is None or row.revoked_at is not None or ctx.now >= row.expires_at:
                return None
            if ctx.now >= row.last_seen_at + idle:
                return None
            account = session.get(StaffAccount, row.account_id)
            if account is None or account.disabled:
                return None
            if ctx.now - row.last_seen_at >= TOUCH_EVERY:
                row.last_seen_at = ctx.now
            return SignedIn(member=_member(account), csrf_token=row.csrf_token, expires_at=row.expires_at)

    def sign_out(self, token: str) -> None:
        """Ends the session everywhere; a token already ended or unknown is left alone."""
        with self._services.unit() as (session, ctx):
            row = session.get(StaffSession, _digest(token)) if token else None
            if row is None or row.revoked_at is not None:
                return
            row.revoked_at = ctx.now
            account = session.get(StaffAccount, row.account_id)
            login = account.login if account else ANONYMOUS
            self._audit(session, ctx, login, "staff.logout", login, "ok")

    def forbidden(self, login: str, target: str) -> None:
        """Audits a signed-in member's call their roles do not allow."""
        with self._services.unit() as (session, ctx):
            self._audit(session, ctx, login, "staff.forbidden", target[:64], "refused")

    # Internals
    def _checked(self, password: str, login: str, display_name: str) -> str:
        return check_password(
            password, login=login, display_name=display_name, min_chars=self.settings.password_min_chars
        )

    @staticmethod
    def _find(session: Session, login: str, *, lock: bool = False) -> StaffAccount | None:
        query = select(StaffAccount).where(StaffAccount.login == login)
        return session.scalar(query.with_for_update() if lock else query)

    def _account(self, session: Session, login: str, *, lock: bool = False) -> StaffAccount:
        name = (login or "").strip().lower()
        account = self._find(session, name, lock=lock) if LOGIN_PATTERN.match(name) else None
        if account is None:
            raise NotFound(f"没有登录名为“{_printable(name)}”的账号。", field="login")
        return account

    def _refuse_if_locked(
        self, session: Session, ctx: Context, account: StaffAccount, detail: dict[str, str]
    ) -> None:
        if account.locked_until is None or ctx.now >= account.locked_until:
            return
        self._audit(session, ctx, ANONYMOUS, "staff.login", account.login, "locked", detail)
        wait = account.locked_until - ctx.now
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        raise AccountLocked(
            f"密码错误次数过多，账号已锁定，请{minutes}分钟后再试，或请管理员重置密码。",
            retry_after=max(1, int(wait.total_seconds())),
        )

    def _refuse_wrong_password(
        self, session: Session, ctx: Context, account: StaffAccount, detail: dict[str, str]
    ) -> None:
        settings = self.settings
        account.failed_logins += 1
        over = account.failed_logins - settings.lockout_failures
        result = "wrong_password"
        if over >= 0:
            minutes = min(settings.lockout_minutes * 2 ** min(over, 16), settings.lockout_max_minutes)
            account.locked_until = ctx.now + dt.timedelta(minutes=minutes)
            result = "locked_now"
        self._audit(
            session,
            ctx,
            ANONYMOUS,
            "staff.login",
            account.login,
            result,
            {**detail, "failures": account.failed_logins},
        )
        raise LoginRefused(WRONG_CREDENTIALS)

    @staticmethod
    def _end_sessions(session: Session, ctx: Context, account: StaffAccount) -> None:
        session.execute(
            update(StaffSession)
            .where(StaffSession.account_id == account.id, StaffSession.revoked_at.is_(None))
            .values(revoked_at=ctx.now)
        )

    @staticmethod
    def _audit(
        session: Session,
        ctx: Context,
        actor: str,
        action: str,
        target: str | None,
        result: str,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        audit.record(
            session,
            at=ctx.now,
            actor=actor,
            action=action,
            target=target,
            result=result,
            detail=dict(detail) if detail else None,
        )
