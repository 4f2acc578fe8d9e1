"""The eligibility form: ask only the facts a guide's rules still need, then give the verdict.

Each RuleField has a slot `elig_<field>`; `validate_eligibility_form` computes the form's
required slots from the guide under check (slot `eligibility_guide`) and the answers so far.
A parsed answer is stored as the fact (bool, int, 男/女) or "不清楚" for an unknown one.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from answering.core import decide
from answering.decision import Kind as DecisionKind
from answering.render import citation, guide_card, guide_source, next_step_buttons, render, render_aspect
from bot.actions import consent
from bot.actions.answer import remember as remember_answer
from bot.actions.answer import send, turn_of
from bot.actions.base import Action, FormValidationAction
from bot.eligibility.answers import FIELDS, Kind, is_stop, parse_answer
from bot.eligibility.rules import UNKNOWN, Fact, Facts, Outcome, Unknown, assess, rule_fields
from bot.eligibility.verdict import render_verdict
from indexer.api import get_guide
from indexer.schema import Guide, RuleField

REQUESTED_SLOT = "requested_slot"
GUIDE_SLOT = "eligibility_guide"
CHECKING_SLOT = "eligibility_checking"
SLOT_PREFIX = "elig_"
# After this many answers we can't understand, a fact counts as unknown rather than asked forever.
MAX_ATTEMPTS = 3
_DIGIT = re.compile(r"[0-9０-９]")
# Offered when someone asks 我符合条件吗 without naming a service.
EXAMPLE_SERVICES = ("最低生活保障申请", "高龄补贴申领", "公共租赁住房申请", "结婚登记")

_SELF_CHECK = re.compile(
    r"(我|俺|本人|自己|我家|我们|我妈|我爸|老汉|老人|娃娃|孩子)[^。？?]{0,12}"
    r"(能|可以|符合|够|算|行不|资格|办得|领得|申请得)"
)
_AGE_SAID = re.compile(r"[0-9零一二两三四五六七八九十百]+\s*周?岁")


def slot_of(field: RuleField) -> str:
    return f"{SLOT_PREFIX}{field.value}"


FACT_SLOTS = [slot_of(field) for field in RuleField]


def wants_conditions_list(text: str) -> bool:
    """Facts first: 低保的条件是哪样 or 男的多少岁才能领结婚证 read the conditions; the check starts
    only when residents ask about themselves (我能不能办低保、我22了能领证吗) or tap 帮我判断."""
    return not (text.startswith("/") or _SELF_CHECK.search(text))


def _stored(fact: Fact) -> bool | int | str:
    return UNKNOWN.value if isinstance(fact, Unknown) else fact


def read_facts(tracker: Tracker, guide: Guide) -> Facts:
    """The facts the guide's rules mention that have an understood answer."""
    facts: dict[RuleField, Fact] = {}
    for field in rule_fields(guide.eligibility_rules):
        value = tracker.get_slot(slot_of(field))
        fact = parse_answer(field, value) if value is not None else None
        if fact is not None:
            facts[field] = fact
    return facts


def guide_under_check(tracker: Tracker) -> Guide | None:
    guide_id = tracker.get_slot(GUIDE_SLOT)
    return get_guide(guide_id) if guide_id else None


def start_events(guide: Guide, tracker: Tracker) -> list[EventType]:
    """Forget the previous check's answers; keep an age the question already gave (80岁能领不)."""
    events: list[EventType] = [SlotSet(slot, None) for slot in FACT_SLOTS]
    if RuleField.age in rule_fields(guide.eligibility_rules):
        said = re.findall(_AGE_SAID, tracker.latest_message.get("text") or "")
        for value in [*tracker.get_latest_entity_values("age"), *said]:
            age = parse_answer(RuleField.age, str(value))
            if isinstance(age, int):
                events.append(SlotSet(slot_of(RuleField.age), age))
                break
    return [
        *events,
        SlotSet(GUIDE_SLOT, guide.id),
        SlotSet("service", guide.name),
        SlotSet("last_guide", guide.id),
        SlotSet(CHECKING_SLOT, True),
    ]


# What the answering core may read a 能不能… question as asking instead of eligibility.
_NOT_ELIGIBILITY = frozenset({"process", "location", "fees", "time_limit", "materials"})


def _intro(guide: Guide) -> str:
    return (
        f"好的，我帮您初步判断能不能办「{guide.name}」，只问几个必要的问题。"
        "不清楚的可以说“不清楚”，不想查了说“算了”。"
    )


def _buttons_without_check(guide: Guide) -> list[dict[str, str]]:
    return [b for b in next_step_buttons(guide) if not b["payload"].startswith("/ask_eligibility")]


class ActionStartEligibilityCheck(Action):
    """Find the service, then either start the form or answer with the conditions list."""

    def name(self) -> str:
        return "action_start_eligibility_check"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        not_now = [SlotSet(CHECKING_SLOT, False)]
        decision = decide(turn_of(tracker, "ask_eligibility"))
        if decision.kind is DecisionKind.policy or (
            decision.kind is DecisionKind.clarify and decision.evidence == "ambiguous"
        ):
            send(dispatcher, render(decision))
            return not_now
        if decision.kind is DecisionKind.answer and decision.aspect in _NOT_ELIGIBILITY:
            # 能不能网上办、要跑几趟 after a service ask how, not whether one qualifies
            send(dispatcher, render(decision))
            return remember_answer(decision) + not_now
        if decision.kind in (DecisionKind.bundle, DecisionKind.precheck):
            # 要办哪些 about a life event, or what one has: nobody's eligibility is asked
            send(dispatcher, render(decision))
            return remember_answer(decision) + not_now
        guide = decision.guide
        if guide is None:
            dispatcher.utter_message(
                text="您想看自己能不能办哪一项？请告诉我事项名称，比如“低保”“高龄补贴”，或选择：",
                buttons=[
                    {"title": name, "payload": f'/ask_eligibility{{"service": "{name}"}}'}
                    for name in EXAMPLE_SERVICES
                ],
            )
            return not_now
        remember = [SlotSet("service", guide.name), SlotSet("last_guide", guide.id)]
        if decision.faq is not None and wants_conditions_list(text) and not consent.is_payload(text):
            send(dispatcher, render(decision))  # a FAQ answers it (户口不在遵义能办不 → 不能)
            return remember + not_now
        if not guide.eligibility_rules or wants_conditions_list(text):
            self._list_conditions(dispatcher, guide)
            return remember + not_now
        dispatcher.utter_message(text=_intro(guide))
        return start_events(guide, tracker)

    @staticmethod
    def _list_conditions(dispatcher: CollectingDispatcher, guide: Guide) -> None:
        if guide.eligibility_rules:
            offer = "\n想知道自己符不符合，选“帮我判断”，我问您几个问题。"
            buttons = [
                {"title": "帮我判断", "payload": f'/ask_eligibility{{"service": "{guide.name}"}}'},
                *_buttons_without_check(guide),
            ]
        else:
            offer = "\n这些条件要由窗口审核，我没法替您判断，可以先电话咨询或预约到窗口。"
            buttons = _buttons_without_check(guide)
        dispatcher.utter_message(
            text=f"{render_aspect(guide, 'conditions')}{offer}\n{citation(guide)}",
            buttons=buttons,
            json_message=guide_card(guide, "conditions"),
        )


class ValidateEligibilityForm(FormValidationAction):
    """Understands each answer; `validate_elig_<field>` methods are generated below the class."""

    def name(self) -> str:
        return "validate_eligibility_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The slots already answered (so they are validated) plus the one fact to ask next."""
        guide = guide_under_check(tracker)
        if guide is None:
            return []
        answered = [
            slot_of(field)
            for field in rule_fields(guide.eligibility_rules)
            if tracker.get_slot(slot_of(field)) is not None
        ]
        next_field = assess(guide.eligibility_rules, read_facts(tracker, guide)).next_field
        return answered + ([slot_of(next_field)] if next_field else [])

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        answer = tracker.slots_to_validate().get(requested) if requested else None
        if answer is not None:
            text = tracker.latest_message.get("text") or ""
            if is_stop(text):
                # The verdict action sees the unfinished check and confirms that we stopped.
                return [SlotSet(requested, None), SlotSet(REQUESTED_SLOT, None)]
            switched = self._switched_guide(tracker, requested, answer)
            if switched is not None:
                dispatcher.utter_message(text=f"好的，改为帮您看「{switched.name}」。")
                first = assess(switched.eligibility_rules, {}).next_field
                return [
                    *start_events(switched, tracker),
                    SlotSet(REQUESTED_SLOT, slot_of(first) if first else None),
                ]
        return await super().run(dispatcher, tracker, domain)

    @staticmethod
    def _switched_guide(tracker: Tracker, requested: str, answer: Any) -> Guide | None:
        """Another service named instead of an answer (那结婚登记呢) restarts the check for it."""
        current = tracker.get_slot(GUIDE_SLOT)
        for value in tracker.get_latest_entity_values("service"):
            guide = get_guide(value)
            if guide is not None and guide.id != current and guide.eligibility_rules:
                field = RuleField(requested.removeprefix(SLOT_PREFIX))
                if parse_answer(field, answer) is None:
                    return guide
        return None


def _attempts(tracker: Tracker, slot: str) -> int:
    """How many messages the resident has sent since we first asked for `slot` this time."""
    seen = attempts = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen += 1
        elif event.get("event") == "slot" and event.get("name") == REQUESTED_SLOT:
            if event.get("value") != slot:
                break
            attempts = seen
    return attempts


def _validator(field: RuleField) -> Any:
    slot = slot_of(field)
    spec = FIELDS[field]

    def validate(
        self: ValidateEligibilityForm,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        fact = parse_answer(field, value)
        if fact is None and spec.kind is Kind.yes_no and not _DIGIT.search(str(value)):
            # A plain 嗯/不 the parser missed: trust the NLU's affirm/deny — never for a bare
            # number ("2" was read as affirm), which is asked again.
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            fact = {"affirm": True, "deny": False}.get(intent or "")
        if fact is None and _attempts(tracker, slot) >= MAX_ATTEMPTS:
            dispatcher.utter_message(text=f"这一项我先记为“不清楚”。{spec.label}可以到窗口核实。")
            fact = UNKNOWN
        if fact is None:
            dispatcher.utter_message(text=f"抱歉，我没听明白“{value}”。{spec.hint}不清楚就说“不清楚”。")
            return {slot: None}
        return {slot: _stored(fact)}

    validate.__name__ = f"validate_{slot}"
    return validate


# The SDK looks validators up by name (validate_<slot>); one per RuleField, all alike.
for _field in RuleField:
    setattr(ValidateEligibilityForm, f"validate_{slot_of(_field)}", _validator(_field))


_YES_NO = ("是", "不是")
# The question for each fact, and the quick replies shown under it (sent back as plain text).
QUESTIONS: dict[RuleField, tuple[str, tuple[str, ...]]] = {
    RuleField.age: ("请问申请人今年多大年纪（周岁）？", ()),
    RuleField.gender: ("申请人是男士还是女士？", ("男", "女")),
    RuleField.local_hukou: ("申请人的户口在遵义市吗？", _YES_NO),
    RuleField.residence_months: ("在遵义住了多久了？（比如“两年”“8个月”）", ()),
    RuleField.monthly_income_per_capita: (
        "家里每人每月大概有多少收入？（全家月收入除以人数，比如“600块”）",
        (),
    ),
    RuleField.has_local_housing: ("申请人和共同生活的家人在本地有自己的住房吗？", ("有", "没有")),
    RuleField.disability_grade: (
        "残疾人证上的残疾等级是几级？",
        ("一级", "二级", "三级", "四级", "没有残疾证"),
    ),
    RuleField.employed: ("申请人现在有工作吗（是否已经重新就业）？", ("有工作", "没有工作")),
    RuleField.insured_months: ("在本市连续缴纳社会保险（失业保险）多久了？（比如“一年半”）", ()),
    RuleField.days_since_birth: ("宝宝出生多少天了？（比如“20天”“两个月”）", ()),
    RuleField.days_to_expiry: ("驾驶证还有多久到期？已经过期的请说过期多久（比如“过期两个月”）。", ()),
    RuleField.members: ("拟成立的社会团体有多少个个人会员？（没有请说“0”）", ()),
    RuleField.unit_members: ("有多少个单位会员？（没有请说“0”）", ()),
    RuleField.married: ("申请人现在是已婚吗？", ("已婚", "未婚/离婚/丧偶")),
}


class AskFact(Action, ABC):
    """`action_ask_eligibility_form_elig_<field>`: the form's question for one fact.

    Actions rather than responses because the quick replies are built here with the
    parser's hints, and responses only used by a form make `rasa data validate` warn."""

    @property
    @abstractmethod
    def field(self) -> RuleField: ...

    def name(self) -> str:
        return f"action_ask_eligibility_form_{slot_of(self.field)}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        question, replies = QUESTIONS[self.field]
        dispatcher.utter_message(
            text=question,
            buttons=[{"title": reply, "payload": reply} for reply in (*replies, "不清楚")],
        )
        return []


ASK_ACTIONS = [
    type(f"AskFact_{field.value}", (AskFact,), {"field": field, "__module__": __name__})
    for field in RuleField
]
# Sanic pickles the registered action classes for its worker processes, and pickle finds a
# class by its module attribute: publish the generated classes under their names.
globals().update({action.__name__: action for action in ASK_ACTIONS})


class ActionGiveEligibilityVerdict(Action):
    def name(self) -> str:
        return "action_give_eligibility_verdict"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        guide = guide_under_check(tracker)
        done: list[EventType] = [
            *(SlotSet(slot, None) for slot in FACT_SLOTS),
            SlotSet(GUIDE_SLOT, None),
            SlotSet(CHECKING_SLOT, False),
        ]
        if guide is None:
            return done
        facts = read_facts(tracker, guide)
        assessment = assess(guide.eligibility_rules, facts)
        if assessment.outcome is Outcome.incomplete:
            dispatcher.utter_message(
                text="好的，先不查了。需要时说“我符合条件吗”，随时可以重新判断。",
                buttons=_buttons_without_check(guide),
            )
            return done
        rule = assessment.deciding_rule
        buttons = _buttons_without_check(guide)
        if assessment.outcome is Outcome.not_eligible:
            # Booking a hall visit for something one does not qualify for wastes a trip.
            buttons = [b for b in buttons if not b["payload"].startswith("/book_appointment")]
        dispatcher.utter_message(
            text=f"{render_verdict(guide, assessment, facts)}\n{citation(guide)}",
            buttons=buttons,
            json_message={
                "type": "eligibility_verdict",
                "service": guide.name,
                "outcome": assessment.outcome.value,
                "rule": rule.text if rule else None,
                "sources": [guide_source(guide, "conditions")],
            },
        )
        return done
