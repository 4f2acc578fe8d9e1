"""Residents' questions end to end: ``.venv/bin/python -m bench.residents [--url URL] [--json FILE]``.

Sends every question of the held-out dev set (bench/data/residents_dev.yaml: situations, WeChat
voice input, typos, Guizhou dialect, 繁體字, off-topic look-alikes …) as one ``POST /api/chat`` turn
from a fresh resident, and judges the reply by what it cites, not by its wording:

- answered_right: a source (or a card's ``service``) names the expected guide; for ``policy``
  questions, a policy answer;
- clarified_right: no answer, but a button offers the expected guide;
- answered_wrong: another guide (or the policy) answered;
- not_answered: the honest "not sure", a clarification without the right guide, an error;
- off-topic questions are either ``answered`` (bad: a guide or the policy was cited) or ``refused``.

Any reply that opens a complaint or handoff ticket is counted too; none of these questions asks
for one. Without ``--url`` the real stack is started by core.stack (fresh database; Rasa is
trained first if its inputs changed), and tickets are also counted in its audit log.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
import yaml
from tqdm import tqdm

from bench.latency import percentile
from bench.nlu import TRAINING_DATA, example_texts
from core.stack import UNTHROTTLED, running_stack

DEV_SET = Path(__file__).parent / "data" / "residents_dev.yaml"
POLICY = "policy"
OFF_TOPIC = "off_topic"
OFF_TOPIC_TARGET = 1 / 15
TICKET_TYPES = frozenset({"complaint", "handoff"})
TICKET_WORDS = ("受理编号", "工单号")
TICKET_ACTIONS = ("complaint.open", "handoff.open")
HEADER = f"{'kind':<16} {'n':>4}  {'right':>7}  {'clarified':>9}  {'wrong':>5}  {'not answered':>12}"
# A reply without a card that names its guide in 「」 is helping with that guide, e.g. the start
# of the eligibility check: “我帮您初步判断能不能办「高龄补贴申领」”.
_QUOTED = re.compile(r"「([^」]{2,40})」")

Reply = Mapping[str, Any]
Send = Callable[[str, str], Reply]


class Verdict(str, Enum):
    answered_right = "answered_right"
    clarified_right = "clarified_right"
    answered_wrong = "answered_wrong"
    not_answered = "not_answered"
    # Off-topic questions.
    answered = "answered"
    refused = "refused"


@dataclass(frozen=True)
class Question:
    text: str
    expect: str
    kind: str


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    got: list[str]
    """Guides the reply answered with (``policy`` for a policy answer), in order."""
    offered: list[str]
    """Button titles, for clarifications."""
    ticket: bool


@dataclass(frozen=True)
class Result:
    text: str
    expect: str
    kind: str
    verdict: str
    got: list[str]
    offered: list[str]
    ticket: bool
    latency_ms: float
    intent: str | None
    confidence: float | None
    reply: str
    error: str | None = None


def load_questions(path: Path = DEV_SET) -> list[Question]:
    items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [Question(str(item["text"]), str(item["expect"]), str(item["kind"])) for item in items]


def leaked(questions: Iterable[Question], training_dir: Path = TRAINING_DATA) -> list[str]:
    """Dev questions that also appear verbatim among the NLU training examples."""
    training = set().union(*(example_texts(path) for path in sorted(training_dir.glob("*.yml"))))
    return sorted({q.text for q in questions} & training)


def _messages(reply: Reply) -> list[Mapping[str, Any]]:
    return list(reply.get("messages") or [])


def answered_with(reply: Reply) -> list[str]:
    """What the reply answered with: guide names from sources, cards and 「」, or ``policy``."""
    got: list[str] = []
    for message in _messages(reply):
        payload = message.get("payload") or {}
        if payload.get("type") == "policy":
            names = [POLICY]
        elif payload.get("type") == "bundle_card":
            names = [str(payload.get("name"))]  # the event answered, not each step it cites
        else:
            names = [str(source.get("title")) for source in message.get("sources") or []]
            if payload.get("service"):
                names.append(str(payload["service"]))
            if not payload and not names:
                names = _QUOTED.findall(message.get("text") or "")[:1]
        got += [name for name in dict.fromkeys(names) if name and name not in got]
    return got


def opened_ticket(reply: Reply) -> bool:
    for message in _messages(reply):
        payload = message.get("payload") or {}
        text = message.get("text") or ""
        if payload.get("type") in TICKET_TYPES or any(word in text for word in TICKET_WORDS):
            return True
    return False


def _choices(reply: Reply) -> list[str]:
    """What the resident may pick: each button's title and payload, and a clarification's options."""
    choices: list[str] = []
    for message in _messages(reply):
        choices += [f"{b.get('title', '')} {b.get('payload', '')}" for b in message.get("buttons") or []]
        choices += [str(option) for option in (message.get("payload") or {}).get("options") or []]
    return choices


def judge(expect: str, reply: Reply) -> Judgement:
    """The verdict on one reply to a question whose right answer is ``expect`` (a guide name,
    ``policy`` or ``off_topic``)."""
    got = answered_with(reply)
    buttons = [button for message in _messages(reply) for button in message.get("buttons") or []]
    offered = [str(button.get("title", "")) for button in buttons]
    ticket = opened_ticket(reply)
    if expect == OFF_TOPIC:
        verdict = Verdict.answered if got else Verdict.refused
    elif expect in got:
        verdict = Verdict.answered_right
    elif got:
        verdict = Verdict.answered_wrong
    elif any(expect in choice for choice in _choices(reply)):
        verdict = Verdict.clarified_right
    else:
        verdict = Verdict.not_answered
    return Judgement(verdict, got, offered, ticket)


def ask(send: Send, questions: Sequence[Question]) -> list[Result]:
    """One turn per question, each from a fresh web resident."""
    results = []
    for question in tqdm(questions, desc="residents", unit="q"):
        started = time.perf_counter()
        try:
            reply = send(f"web:{uuid.uuid4()}", question.text)
            error = None
        except httpx.HTTPError as exc:
            reply, error = {"messages": []}, f"{type(exc).__name__}: {exc}"
        elapsed = (time.perf_counter() - started) * 1000
        judgement = judge(question.expect, reply)
        results.append(
            Result(
                text=question.text,
                expect=question.expect,
                kind=question.kind,
                verdict=judgement.verdict.value,
                got=judgement.got,
                offered=judgement.offered,
                ticket=judgement.ticket,
                latency_ms=round(elapsed, 1),
                intent=reply.get("intent"),
                confidence=reply.get("confidence"),
                reply=" | ".join(m.get("text") or "" for m in _messages(reply))[:300],
                error=error,
            )
        )
    return results


def _row(name: str, results: Sequence[Result]) -> str:
    n = len(results)
    count = Counter(r.verdict for r in results)
    right, clarified = (
        count[verdict] / n if n else math.nan for verdict in (Verdict.answered_right, Verdict.clarified_right)
    )
    return (
        f"{name:<16} {n:>4}  {right:>7.1%}  {clarified:>9.1%}"
        f"  {count[Verdict.answered_wrong]:>5}  {count[Verdict.not_answered]:>12}"
    )


def report(results: Sequence[Result], db_tickets: int | None) -> str:
    """The table by kind (questions with an answer), then off-topic, tickets and latency."""
    answerable = [r for r in results if r.expect != OFF_TOPIC]
    off_topic = [r for r in results if r.expect == OFF_TOPIC]
    by_kind: dict[str, list[Result]] = defaultdict(list)
    for result in answerable:
        by_kind[result.kind].append(result)
    lines = []
    if answerable:
        lines.append(HEADER)
        lines += [_row(kind, rows) for kind, rows in sorted(by_kind.items())]
        lines.append(_row("total", answerable))
        lines.append(_row("  of them policy", [r for r in answerable if r.expect == POLICY]))
    if off_topic:
        answered = sum(r.verdict == Verdict.answered for r in off_topic)
        verdict = "达标" if answered / len(off_topic) <= OFF_TOPIC_TARGET else "未达标"
        lines.append(
            f"无关问题被当作有答案：{answered}/{len(off_topic)} = {answered / len(off_topic):.1%}"
            f"（目标 ≤ 1/15 = {OFF_TOPIC_TARGET:.1%}，{verdict}）"
        )
    tickets = sum(r.ticket for r in results)
    in_db = "" if db_tickets is None else f"；数据库审计记录新增 {db_tickets} 张"
    lines.append(f"误开工单（投诉/转人工）：回复中 {tickets} 张{in_db}（目标 0）")
    errors = sum(r.error is not None for r in results)
    busy = sum("系统繁忙" in r.reply for r in results)
    if errors or busy:
        lines.append(f"注意：{errors} 次请求出错，{busy} 次回复“系统繁忙”（都计为未回答）")
    latencies = [r.latency_ms for r in results]
    lines.append(
        f"每问延迟（POST /api/chat，{len(latencies)} 次）：p50 {percentile(latencies, 0.5):.0f} ms，"
        f"p95 {percentile(latencies, 0.95):.0f} ms"
    )
    return "\n".join(lines)


def select(questions: Sequence[Question], kind: str | None, limit: int | None) -> list[Question]:
    chosen = [q for q in questions if kind is None or q.kind == kind]
    return chosen[:limit] if limit is not None else chosen


def _run_against_url(url: str, questions: Sequence[Question]) -> list[Result]:
    with httpx.Client(base_url=url.rstrip("/"), timeout=60) as client:

        def send(sender: str, text: str) -> Reply:
            response = client.post("/api/chat", json={"sender_id": sender, "text": text, "channel": "web"})
            response.raise_for_status()
            reply: dict[str, Any] = response.json()
            return reply

        return ask(send, questions)


def _run_on_stack(questions: Sequence[Question]) -> tuple[list[Result], int]:
    """Results, and the tickets the stack's own audit log gained meanwhile."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-residents-") as directory,
        running_stack(Path(directory), UNTHROTTLED) as stack,
    ):

        def tickets() -> int:
            return sum(
                len(stack.services.audit_log(reader="bench", limit=100_000, action=action))
                for action in TICKET_ACTIONS
            )

        before = tickets()
        results = ask(stack.chat, questions)
        return results, tickets() - before


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.residents",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", help="已在运行的网关，如 http://127.0.0.1:8000；不给则自动启动整套服务")
    parser.add_argument("--json", type=Path, help="逐题结果写到这个 JSON 文件")
    parser.add_argument("--limit", type=int, help="只问前 N 题（在 --kind 筛选之后）")
    parser.add_argument("--kind", help="只问这一类，如 dialect、voice、offtopic")
    parser.add_argument("--data", type=Path, default=DEV_SET, help="题库（默认 residents_dev.yaml）")
    args = parser.parse_args(argv)

    questions = load_questions(args.data)
    overlap = leaked(questions)
    if overlap:
        raise SystemExit(f"{args.data} 的这些问题也出现在 {TRAINING_DATA} 里，不再是留出集：{overlap}")
    chosen = select(questions, args.kind, args.limit)
    if not chosen:
        raise SystemExit(f"没有符合条件的问题（--kind {args.kind}）")
    db_tickets: int | None = None
    if args.url:
        results = _run_against_url(args.url, chosen)
    else:
        results, db_tickets = _run_on_stack(chosen)
    print(f"\n居民问题集 {args.data.name}：{len(results)} 题，每题一个新会话，经 POST /api/chat")
    print(report(results, db_tickets))
    if args.json:
        args.json.write_text(
            json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1), encoding="utf-8"
        )
        print(f"逐题结果：{args.json}")


if __name__ == "__main__":
    main()
