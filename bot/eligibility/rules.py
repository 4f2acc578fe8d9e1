"""Evaluate a guide's machine-checkable 申请条件 against the facts a resident gave.

Pure and synchronous: the form asks for `Assessment.next_field` until the outcome is decided.
A fact is a value (bool, int or the gender text), or `UNKNOWN` when the resident said they
don't know; a field missing from the facts has not been asked yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from indexer.schema import Condition, EligibilityRule, RuleField, RuleValue

FactValue = bool | int | str


class Unknown(Enum):
    """The resident was asked and does not know; never ask again, count it as 'cannot tell'."""

    UNKNOWN = "不清楚"


UNKNOWN = Unknown.UNKNOWN
Fact = FactValue | Unknown
Facts = Mapping[RuleField, Fact]


class Outcome(str, Enum):
    eligible = "eligible"
    not_eligible = "not_eligible"
    cannot_tell = "cannot_tell"
    # More facts could still change the outcome: ask `next_field`.
    incomplete = "incomplete"


class RuleState(str, Enum):
    passed = "passed"
    failed = "failed"
    not_applicable = "not_applicable"
    open = "open"


@dataclass(frozen=True)
class Assessment:
    outcome: Outcome
    next_field: RuleField | None = None
    deciding_rule: EligibilityRule | None = None
    passed: tuple[EligibilityRule, ...] = ()
    unresolved: tuple[EligibilityRule, ...] = ()
    unknown_fields: tuple[RuleField, ...] = field(default_factory=tuple)

    @property
    def no_rules(self) -> bool:
        """Cannot tell because the guide has nothing a machine can check."""
        return self.outcome is Outcome.cannot_tell and not self.unresolved


def _compare(fact: FactValue, op: str, value: RuleValue) -> bool:
    if op == "in":
        return isinstance(value, list) and fact in value
    if op == "not in":
        return isinstance(value, list) and fact not in value
    if op == "==":
        return fact == value
    if op == "!=":
        return fact != value
    if isinstance(fact, bool) or isinstance(value, bool | str | list):
        return False
    if isinstance(fact, str):
        return False
    if op == ">=":
        return fact >= value
    if op == "<=":
        return fact <= value
    if op == ">":
        return fact > value
    return fact < value


def holds(condition: Condition, facts: Facts) -> bool | None:
    """True/False, or None while the fact is not asked yet or unknown."""
    fact = facts.get(condition.field)
    if fact is None or fact is UNKNOWN:
        return None
    assert not isinstance(fact, Unknown)
    return _compare(fact, condition.op, condition.value)


def rule_state(rule: EligibilityRule, facts: Facts) -> RuleState:
    applies = [holds(condition, facts) for condition in rule.when]
    if False in applies:
        return RuleState.not_applicable
    satisfied = holds(rule, facts)
    if satisfied is True:
        # Met whether or not it applies: its `when` facts need not be asked.
        return RuleState.passed
    if satisfied is False and all(applies):
        return RuleState.failed
    return RuleState.open


def _open_fields(rule: EligibilityRule, facts: Facts) -> list[RuleField]:
    """Fields not asked yet whose answer could still settle this open rule."""
    fields = [rule.field, *(c.field for c in rule.when if holds(c, facts) is None)]
    return [f for f in dict.fromkeys(fields) if f not in facts]


def assess(rules: Sequence[EligibilityRule], facts: Facts) -> Assessment:
    if not rules:
        return Assessment(Outcome.cannot_tell)
    states = [(rule, rule_state(rule, facts)) for rule in rules]
    passed = tuple(rule for rule, state in states if state is RuleState.passed)
    failed = next((rule for rule, state in states if state is RuleState.failed), None)
    if failed is not None:
        return Assessment(Outcome.not_eligible, deciding_rule=failed, passed=passed)
    open_rules = [rule for rule, state in states if state is RuleState.open]
    if not open_rules:
        return Assessment(Outcome.eligible, passed=passed)
    # Ask first what settles the most open rules; ties go to the guide's own order.
    votes: dict[RuleField, int] = {}
    for rule in open_rules:
        for name in _open_fields(rule, facts):
            votes[name] = votes.get(name, 0) + 1
    if votes:
        best = max(votes.values())
        next_field = next(name for name, count in votes.items() if count == best)
        return Assessment(Outcome.incomplete, next_field=next_field, passed=passed)
    unknown = {c.field for rule in open_rules for c in (rule, *rule.when) if facts.get(c.field) is UNKNOWN}
    return Assessment(
        Outcome.cannot_tell,
        passed=passed,
        unresolved=tuple(open_rules),
        unknown_fields=tuple(f for f in RuleField if f in unknown),
    )


def rule_fields(rules: Sequence[EligibilityRule]) -> list[RuleField]:
    """Every field the rules mention, in the guide's order."""
    names = [name for rule in rules for name in (rule.field, *(c.field for c in rule.when))]
    return list(dict.fromkeys(names))
