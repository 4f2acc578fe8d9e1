from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker
from svc_support import Clock, audited_as, count_rows, make_settings, sample_catalog

from services.errors import Conflict, InvalidInput
from services.facade import Services
from services.handoff_desk import HandoffRequest, TranscriptMessage, desk_hours
from services.models import Handoff, HandoffLine, HandoffStatus


def transcript(*texts: str) -> list[TranscriptMessage]:
    return [TranscriptMessage(role="user" if i % 2 == 0 else "bot", text=t) for i, t in enumerate(texts)]


def _handoff(svc: Services, sender: str, *texts: str) -> str:
    request = HandoffRequest(sender_id=sender, channel="web", transcript=transcript(*texts), reason="转人工")
    return svc.open_handoff(request).ticket


def _audit(svc: Services, ticket: str) -> list[tuple[str, str, dict[str, object] | None]]:
    records = svc.audit_log(reader="审计员", target=ticket)
    return [(r.action, r.actor, r.detail) for r in reversed(records)]


def test_handoff_queues_the_conversation_with_a_masked_transcript(svc: Services) -> None:
    ticket = svc.open_handoff(
        HandoffRequest(
            sender_id="web:u9",
            channel="web",
            reason="用户要求人工",
            transcript=transcript("我的公积金怎么还没到账", "请提供办件编号", "我手机15800009119"),
        )
    )
    assert ticket.status is HandoffStatus.waiting and ticket.channel == "web"
    assert [m.text for m in ticket.transcript][-1] == "我手机158****9119"
    again = svc.open_handoff(
        HandoffRequest(sender_id="web:u9", channel="web", transcript=transcript("还在吗"))
    )
    assert again.ticket == ticket.ticket and len(again.transcript) == 4
    assert [h.ticket for h in svc.waiting_handoffs()] == [ticket.ticket]
    claimed = svc.claim_handoff(ticket.ticket, agent="客服小王")
    assert (claimed.status, claimed.agent) == (HandoffStatus.claimed, "客服小王")
    with pytest.raises(Conflict):
        svc.claim_handoff(ticket.ticket, agent="客服小李")
    assert svc.waiting_handoffs() == []
    assert svc.close_handoff(ticket.ticket, agent="客服小王").status is HandoffStatus.closed


def test_oversized_transcripts_are_refused(svc: Services) -> None:
    with pytest.raises(InvalidInput, match="200条"):
        svc.open_handoff(
            HandoffRequest(sender_id="web:u9", channel="web", transcript=transcript(*["嗯"] * 201))
        )
    with pytest.raises(InvalidInput, match="总长度"):
        svc.open_handoff(
            HandoffRequest(sender_id="web:u9", channel="web", transcript=transcript("长" * 20_001))
        )
    assert count_rows(svc, Handoff) == 0


def test_only_the_agent_who_claimed_a_handoff_may_close_it(svc: Services) -> None:
    ticket = _handoff(svc, "web:c1", "我要找人工")
    svc.claim_handoff(ticket, agent="王芳")
    svc.reply_to_handoff(ticket, agent="王芳", text="您好，请讲。")
    with pytest.raises(Conflict, match="该会话由“王芳”接入，只有接入的工作人员可以结束"):
        svc.close_handoff(ticket, agent="李强")
    assert svc.handoff(ticket).status is HandoffStatus.claimed
    assert svc.close_handoff(ticket, agent="王芳").status is HandoffStatus.closed
    with pytest.raises(Conflict, match="已结束"):
        svc.close_handoff(ticket, agent="王芳")
    assert _audit(svc, ticket) == [
        ("handoff.open", audited_as(svc, "web:c1"), None),
        ("handoff.claim", "王芳", None),
        ("handoff.reply", "王芳", {"channel": "web", "chars": 6}),
        ("handoff.close", "王芳", {"was": "claimed"}),
    ]


def test_a_handoff_nobody_took_may_be_closed_by_any_agent_and_the_audit_says_so(svc: Services) -> None:
    ticket = _handoff(svc, "web:c2")
    assert svc.close_handoff(ticket, agent="李强").status is HandoffStatus.closed
    assert svc.waiting_handoffs() == []
    assert _audit(svc, ticket)[-1] == ("handoff.close", "李强", {"was": "waiting"})


def test_the_desk_shows_the_latest_lines_and_every_line_is_kept(
    sessions: sessionmaker[Session], database_url: str, clock: Clock
) -> None:
    svc = Services(sessions, make_settings(database_url, max_transcript_messages=3), clock=clock)
    svc.sync_catalog(sample_catalog())
    first = _handoff(svc, "web:t1", "一", "二")
    other = _handoff(svc, "web:t2", "甲")
    svc.claim_handoff(first, agent="王芳")
    svc.relay_to_agent("web:t1", "三")
    svc.reply_to_handoff(first, agent="王芳", text="四")
    svc.relay_to_agent("web:t1", "五")
    view = svc.handoff(first)
    assert [(m.role, m.text) for m in view.transcript] == [("user", "三"), ("agent", "四"), ("user", "五")]
    assert [m.text for m in svc.agent_handoffs("王芳")[0].transcript] == ["三", "四", "五"]
    assert [[m.text for m in h.transcript] for h in svc.waiting_handoffs()] == [["甲"]]
    assert svc.handoff(other).transcript[0].text == "甲"
    assert count_rows(svc, HandoffLine) == 6


def test_waiting_residents_see_their_place_in_the_queue_and_can_stop_waiting(svc: Services) -> None:
    first, second = _handoff(svc, "web:q1"), _handoff(svc, "web:q2")
    waiting = svc.waiting("web:q2")
    assert waiting is not None and waiting.handoff.ticket == second and waiting.position == 2
    relayed = svc.relay_to_agent("web:q2", "还要等好久，我电话15800009119")
    assert relayed is not None and relayed.handoff.transcript[-1].text == "还要等好久，我电话158****9119"

    withdrawn = svc.withdraw_handoff("web:q1")
    assert withdrawn is not None and withdrawn.ticket == first and withdrawn.status is HandoffStatus.closed
    assert svc.waiting("web:q2").position == 1  # type: ignore[union-attr]
    assert svc.withdraw_handoff("web:q1") is None
    assert svc.relay_to_agent("web:q1", "还在吗") is None
    assert _audit(svc, first)[-1][:2] == ("handoff.withdraw", audited_as(svc, "web:q1"))


@pytest.mark.parametrize(
    ("now", "open_now", "says"),
    [
        ("2026-11-27 10:30", True, "工作日 9:00—17:00"),  # Friday morning
        ("2026-11-29 19:40", False, "明天 9:00"),  # Sunday evening → Monday
        ("2026-11-30 08:10", False, "今天 9:00"),  # Monday before opening
        ("2026-11-30 18:02", False, "明天 9:00"),  # Monday after closing → Tuesday
        ("2026-11-27 17:30", False, "11月30日 9:00"),  # Friday after closing → Monday
        ("2026-10-03 11:00", False, "10月8日 9:00"),  # 国庆 holiday: the first working day after it
    ],
)
def test_the_desk_hours_say_when_a_person_will_answer(now: str, open_now: bool, says: str) -> None:
    hours = desk_hours(dt.datetime.fromisoformat(now))
    assert hours.open_now is open_now
    assert says in hours.text
