"""The verdict in words: which condition decided it, quoted from the guide."""

from __future__ import annotations

from bot.eligibility.answers import FIELDS, describe_fact
from bot.eligibility.rules import Assessment, Facts, Outcome
from indexer.schema import Guide


def _numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def _other_conditions(guide: Guide) -> str:
    return f"以下是完整的申请条件，其中我没有问到的，还要由窗口审核：\n{_numbered(list(guide.conditions))}"


def render_verdict(guide: Guide, assessment: Assessment, facts: Facts) -> str:
    name = f"「{guide.name}」"
    if assessment.outcome is Outcome.not_eligible and assessment.deciding_rule is not None:
        rule = assessment.deciding_rule
        answered = describe_fact(rule.field, facts[rule.field]) if rule.field in facts else ""
        told = f"（您说的是：{answered}）" if answered else ""
        return (
            f"按您说的情况，您暂时不符合{name}的申请条件。\n"
            f"不符合的是这一条：“{rule.text}”{told}。\n"
            "如果情况有变化或有特殊情形，可以到窗口咨询，或拨打政务服务热线 12345。"
        )
    if assessment.outcome is Outcome.eligible:
        met = _numbered([f"“{rule.text}”" for rule in assessment.passed])
        return (
            f"按您说的情况，您符合{name}可以初步判断的条件：\n{met}\n"
            f"这只是初步判断。{_other_conditions(guide)}"
        )
    if assessment.no_rules:
        return f"{name}的申请条件需要窗口人工审核，我没法替您判断。\n{_other_conditions(guide)}"
    unknown = "、".join(FIELDS[field].label for field in assessment.unknown_fields)
    open_rules = _numbered([f"“{rule.text}”" for rule in assessment.unresolved])
    because = f"您说不清楚{unknown}，" if unknown else ""
    return (
        f"{because}所以我没法判断您是否符合{name}的这些条件：\n{open_rules}\n"
        "可以核实后再来问我，或带上户口簿、身份证到窗口咨询，也可以拨打 12345。\n"
        f"{_other_conditions(guide)}"
    )
