"""Staff accounts, the password policy, the lockout and sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import datetime as dt
import io

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from svc_support import Clock

from core.settings import StaffSettings
from services import cli_users
from services.errors import Conflict, InvalidInput, NotFound
from services.facade import Services
from services.models import StaffAccount, StaffRole
from services.staff import AccountLocked, LoginRefused, StaffDirectory

PASSWORD = "青山-绿水-7391-遵义"
NEW_PASSWORD = "Lantern+Harbor+4826"


@pytest.fixture
def staff(svc: Services) -> StaffDirectory:
    return StaffDirectory(svc, StaffSettings())


@pytest.fixture
def agent(staff: StaffDirectory) -> str:
    staff.add("zy1023", "王芳", ["agent"], PASSWORD, actor="cli:root")
    return "zy1023"


def audit_rows(svc: Services, action: str) -> list[tuple[str, str | None, str]]:
    return [
        (row.actor, row.target, row.result) for row in reversed(svc.audit_log(reader="test", action=action))
    ]


def stored_hash(svc: Services, login: str) -> str:
    with svc.unit() as (session, _ctx):
        return str(session.scalar(select(StaffAccount.password_hash).where(StaffAccount.login == login)))


def test_an_account_signs_in_and_its_session_names_it(svc: Services, staff: StaffDirectory) -> None:
    made = staff.add(" ZY1023 ", " 王芳 ", ["business", "agent"], PASSWORD, actor="cli:root")
    assert (made.login, made.display_name, made.roles) == (
        "zy1023",
        "王芳",
        [StaffRole.agent, StaffRole.business],
    )
    assert stored_hash(svc, "zy1023").startswith("$argon2id$") and PASSWORD not in stored_hash(svc, "zy1023")

    signed_in = staff.sign_in("zy1023", PASSWORD, source="10.0.0.8")
    resolved = staff.resolve(signed_in.token)
    assert resolved is not None and resolved.member.login == "zy1023"
    assert resolved.csrf_token == signed_in.csrf_token != signed_in.token
    assert staff.resolve(signed_in.token + "x") is None
    assert audit_rows(svc, "staff.add") == [("cli:root", "zy1023", "created")]
    assert audit_rows(svc, "staff.login") == [("zy1023", "zy1023", "ok")]
    assert [a.login for a in staff.accounts()] == ["zy1023"]


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("Short-7391", "至少需要12个字符"),
        ("my-zy1023-secret-pass", "不能包含登录名"),
        ("1qaz2wsx3edc", "最常被使用"),
        ("password1234", "太容易猜到"),
        ("123456123456", "太容易猜到"),
        ("x" * 65, "不能超过64个字符"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(
    svc: Services, staff: StaffDirectory, password: str, says: str
) -> None:
    with pytest.raises(InvalidInput, match=says):
        staff.add("zy1023", "王芳", ["agent"], password, actor="cli:root")
    assert staff.accounts() == []


@pytest.mark.parametrize(
    ("roles", "says"),
    [
        (["auditor", "agent"], "三员分立：审计角色不能与其他角色兼任"),
        (["admin", "business"], "三员分立：管理员角色不能与其他角色兼任"),
        (["admin", "auditor"], "三员分立：审计、管理员角色"),
        (["boss"], "没有“boss”这个角色"),
        ([], "至少指定一个角色"),
    ],
)
def test_roles_that_may_not_go_together_are_refused(
    staff: StaffDirectory, roles: list[str], says: str
) -> None:
    with pytest.raises(InvalidInput, match=says):
        staff.add("zy2001", "李强", roles, PASSWORD, actor="cli:root")


def test_login_names_are_unique_and_well_formed(staff: StaffDirectory, agent: str) -> None:
    with pytest.raises(Conflict, match="已被使用"):
        staff.add("ZY1023", "另一个王芳", ["business"], PASSWORD, actor="cli:root")
    for bad in ("王芳", "a", "zy 1023", "web:abc"):
        with pytest.raises(InvalidInput, match="登录名"):
            staff.add(bad, "王芳", ["agent"], PASSWORD, actor="cli:root")


def test_a_wrong_password_and_an_unknown_login_get_the_same_answer_and_are_audited(
    svc: Services, staff: StaffDirectory, agent: str
) -> None:
    with pytest.raises(LoginRefused) as wrong:
        staff.sign_in(agent, PASSWORD + "x", source="10.0.0.9")
    with pytest.raises(LoginRefused) as unknown:
        staff.sign_in("nobody", PASSWORD, source="10.0.0.9")
    assert wrong.value.message == unknown.value.message == "登录名或密码不正确。"
    assert audit_rows(svc, "staff.login") == [
        ("anonymous", agent, "wrong_password"),
        ("anonymous", "nobody", "unknown_login"),
    ]
    assert svc.audit_log(reader="test", action="staff.login")[-1].detail == {
        "source": "10.0.0.9",
        "failures": 1,
    }


def test_non_ascii_credentials_are_simply_wrong(svc: Services, staff: StaffDirectory, agent: str) -> None:
    for login, password in (("王芳", "密码"), (agent, "密码\udcff"), ("\x00", "")):
        with pytest.raises(LoginRefused):
            staff.sign_in(login, password)
    with pytest.raises(LoginRefused):
        staff.sign_in("15800009119", PASSWORD)  # a phone number in the login box
    targets = [target for _, target, _ in audit_rows(svc, "staff.login")]
    assert "15800009119" not in targets and "158****9119" in targets
    assert staff.resolve("令牌🙂") is None
    staff.sign_out("令牌🙂")


def test_repeated_wrong_passwords_lock_the_account_for_longer_each_time(
    svc: Services, staff: StaffDirectory, agent: str, clock: Clock
) -> None:
    for _ in range(4):
        with pytest.raises(LoginRefused):
            staff.sign_in(agent, "wrong-password-1")
    with pytest.raises(LoginRefused) as fifth:
        staff.sign_in(agent, "wrong-password-1")
    assert not isinstance(fifth.value, AccountLocked)  # the caller learns of the lock on the next try
    with pytest.raises(AccountLocked, match="5分钟后再试") as locked:
        staff.sign_in(agent, PASSWORD)  # even the right password waits
    assert locked.value.retry_after == 300
    assert audit_rows(svc, "staff.login")[-2:] == [
        ("anonymous", agent, "locked_now"),
        ("anonymous", agent, "locked"),
    ]

    clock.now += dt.timedelta(minutes=5)
    with pytest.raises(LoginRefused):
        staff.sign_in(agent, "wrong-password-1")
    with pytest.raises(AccountLocked, match="10分钟后再试"):
        staff.sign_in(agent, PASSWORD)

    clock.now += dt.timedelta(minutes=10)
    assert staff.sign_in(agent, PASSWORD).member.login == agent
    with pytest.raises(LoginRefused) as again:  # a success starts the count afresh
        staff.sign_in(agent, "wrong-password-1")
    assert not isinstance(again.value, AccountLocked)


def test_an_idle_session_ends(staff: StaffDirectory, agent: str, clock: Clock) -> None:
    token = staff.sign_in(agent, PASSWORD).token
    for _ in range(3):
        clock.now += dt.timedelta(minutes=29)
        assert staff.resolve(token) is not None  # each use keeps it alive
    clock.now += dt.timedelta(minutes=30)
    assert staff.resolve(token) is None


def test_a_busy_session_still_ends_after_one_shift(staff: StaffDirectory, agent: str, clock: Clock) -> None:
    started = clock.now
    token = staff.sign_in(agent, PASSWORD).token
    while clock.now < started + dt.timedelta(hours=8) - dt.timedelta(minutes=20):
        clock.now += dt.timedelta(minutes=20)
        assert staff.resolve(token) is not None
    clock.now = started + dt.timedelta(hours=8)
    assert staff.resolve(token) is None


def test_sign_out_ends_the_session(svc: Services, staff: StaffDirectory, agent: str) -> None:
    first, second = staff.sign_in(agent, PASSWORD), staff.sign_in(agent, PASSWORD)
    staff.sign_out(first.token)
    assert staff.resolve(first.token) is None
    assert staff.resolve(second.token) is not None  # another browser stays signed in
    staff.sign_out(first.token)
    assert audit_rows(svc, "staff.logout") == [(agent, agent, "ok")]


def test_disabling_an_account_ends_its_sessions_and_refuses_sign_in(
    svc: Services, staff: StaffDirectory, agent: str
) -> None:
    token = staff.sign_in(agent, PASSWORD).token
    assert staff.set_disabled(agent, True, actor="cli:root").disabled
    assert staff.resolve(token) is None
    with pytest.raises(LoginRefused, match="已停用"):
        staff.sign_in(agent, PASSWORD)
    staff.set_disabled(agent, False, actor="cli:root")
    assert staff.resolve(staff.sign_in(agent, PASSWORD).token) is not None
    assert audit_rows(svc, "staff.disable") == [("cli:root", agent, "disabled")]
    with pytest.raises(NotFound, match="nobody"):
        staff.set_disabled("nobody", True, actor="cli:root")


def test_a_password_reset_unlocks_and_ends_the_old_sessions(
    svc: Services, staff: StaffDirectory, agent: str
) -> None:
    token = staff.sign_in(agent, PASSWORD).token
    for _ in range(5):
        with pytest.raises(LoginRefused):
            staff.sign_in(agent, "wrong-password-1")
    with pytest.raises(InvalidInput, match="至少需要"):
        staff.reset_password(agent, "short", actor="cli:root")
    staff.reset_password(agent, NEW_PASSWORD, actor="cli:root")
    assert staff.resolve(token) is None
    with pytest.raises(LoginRefused):
        staff.sign_in(agent, PASSWORD)
    assert staff.sign_in(agent, NEW_PASSWORD).member.login == agent
    assert audit_rows(svc, "staff.reset_password") == [("cli:root", agent, "reset")]


def test_a_hash_made_with_older_parameters_is_upgraded_at_sign_in(
    svc: Services, staff: StaffDirectory, agent: str
) -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024).hash(PASSWORD)
    with svc.unit() as (session, _ctx):
        account = session.scalar(select(StaffAccount).where(StaffAccount.login == agent))
        assert account is not None
        account.password_hash = weaker
    staff.sign_in(agent, PASSWORD)
    upgraded = stored_hash(svc, agent)
    assert upgraded != weaker and not PasswordHasher().check_needs_rehash(upgraded)
    assert staff.sign_in(agent, PASSWORD).member.login == agent


def _cli(svc: Services, *argv: str, stdin: str = "") -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    cli_users.add_parser(parser.add_subparsers(dest="command"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(stdin))
        out, err = io.StringIO(), io.StringIO()
        patch.setattr("sys.stdout", out)
        patch.setattr("sys.stderr", err)
        code = cli_users.run(svc, StaffSettings(), parser.parse_args(["users", *argv]))
    return code, out.getvalue() + err.getvalue()


def test_the_cli_makes_the_first_admin_and_manages_accounts(svc: Services, staff: StaffDirectory) -> None:
    assert "还没有账号" in _cli(svc, "list")[1]
    made = _cli(
        svc, "add", "zy0001", "--name", "钱管理", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert made == (0, "已开设账号 zy0001（钱管理，管理员）。\n")
    assert staff.sign_in("zy0001", PASSWORD).member.roles == [StaffRole.admin]

    mixed = _cli(
        svc,
        "add",
        "zy0002",
        "--name",
        "赵敏",
        "--role",
        "auditor",
        "--role",
        "agent",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert mixed[0] == 1 and "三员分立" in mixed[1]
    weak = _cli(svc, "reset", "zy0001", "--password-stdin", stdin="password1234\n")
    assert weak[0] == 1 and "太容易猜到" in weak[1]
    assert _cli(svc, "reset", "zy0001", "--password-stdin", stdin=NEW_PASSWORD + "\n")[0] == 0
    assert staff.sign_in("zy0001", NEW_PASSWORD).member.login == "zy0001"
    assert _cli(svc, "disable", "zy0001") == (0, "已停用账号 zy0001。\n")
    assert "zy0001" in _cli(svc, "list")[1] and "已停用" in _cli(svc, "list")[1]
    assert _cli(svc, "enable", "nobody")[0] == 1
    actors = {actor for actor, _, _ in audit_rows(svc, "staff.add") + audit_rows(svc, "staff.disable")}
    assert len(actors) == 1 and actors.pop().startswith("cli:")


def test_the_cli_asks_for_the_password_twice(svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    typed = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    code, said = _cli(svc, "add", "zy0003", "--name", "孙丽", "--role", "business")
    assert code == 1 and "两次输入的密码不一致" in said
    assert StaffDirectory(svc, StaffSettings()).accounts() == []
