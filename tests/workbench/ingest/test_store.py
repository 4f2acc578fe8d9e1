"""The analytics store counts every message once, on SQLite and PostgreSQL: the same events again
change nothing, and wherever a batch ends — between a question and its replies too — the turns
come out as if all had arrived at once."""

from __future__ import annotations

from ingest_support import clear_turns, recorded_events, snapshot

from services.facade import Services
from services.models import TurnKind
from workbench.ingest.runner import Ingester
from workbench.ingest.turns import TurnAssembler


def test_replayed_events_are_counted_once(services: Services, assembler: TurnAssembler) -> None:
    ingester = Ingester(services, assembler)
    events = recorded_events()
    first = ingester.ingest(events)
    once = snapshot(services)
    again = ingester.ingest(events)
    assert (first.added, again.added, again.updated) == (13, 0, 13)
    assert snapshot(services) == once
    kinds = [row[11] for row in once]
    assert kinds.count(TurnKind.fallback) == 3 and kinds.count(TurnKind.handoff) == 1


def test_a_batch_may_end_anywhere(services: Services, assembler: TurnAssembler) -> None:
    ingester = Ingester(services, assembler)
    events = recorded_events()
    ingester.ingest(events)
    whole = snapshot(services)
    for cut in range(1, len(events)):
        clear_turns(services)
        ingester.ingest(events[:cut])
        ingester.ingest(events[cut:])
        assert snapshot(services) == whole, f"batches split before event {cut} ({events[cut]['event']})"
        ingester.ingest(events[cut:])  # the second batch delivered twice
        assert snapshot(services) == whole, f"second batch replayed, split at {cut}"


def test_replies_of_a_new_session_do_not_join_an_old_turn(
    services: Services, assembler: TurnAssembler
) -> None:
    events = recorded_events()
    last_user = max(i for i, e in enumerate(events) if e["event"] == "user")
    ingester = Ingester(services, assembler)
    ingester.ingest(events[: last_user + 1])
    hours_later = [{**e, "timestamp": e["timestamp"] + 3 * 3600} for e in events[last_user + 1 :]]
    recorded = ingester.ingest(hours_later)
    assert recorded.unmatched == 1
    handoff = next(row for row in snapshot(services) if row[0] == events[last_user]["message_id"])
    assert handoff[11] is TurnKind.other and handoff[12] is None
