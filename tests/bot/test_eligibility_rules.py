"""Evaluating the real guides' eligibility rules: what to ask next and the verdict."""

from __future__ import annotations

import pytest

from bot.eligibility.rules import UNKNOWN, Facts, Outcome, assess, rule_fields
from bot.eligibility.verdict import render_verdict
from core.settings import get_settings
from indexer.loader import load_guides
from indexer.schema import Guide, RuleField


@pytest.fixture(scope="module")
def guides() -> dict[str, Guide]:
    knowledge = get_settings().knowledge
    return {
        loaded.guide.id: loaded.guide
        for loaded in load_guides(knowledge.guides_dir, knowledge.halls_file).guides
    }


def run_through(guide: Guide, answers: Facts) -> tuple[list[RuleField], Facts]:
    """Answer the questions the assessment asks, in its order, from `answers`; return what was asked."""
    facts: dict = {}
    asked: list[RuleField] = []
    while (next_field := assess(guide.eligibility_rules, facts).next_field) is not None:
        asked.append(next_field)
        facts[next_field] = answers[next_field]
    return asked, facts


def test_marriage_21_year_old_man_fails_the_male_age_rule(
    guides: dict[str, Guide],
) -> None:
    guide = guides["jiehun_dengji"]
    asked, facts = run_through(guide, {RuleField.age: 21, RuleField.gender: "男", RuleField.married: False})
    assert asked == [RuleField.age, RuleField.gender]
    result = assess(guide.eligibility_rules, facts)
    assert result.outcome is Outcome.not_eligible
    assert result.deciding_rule is not None and result.deciding_rule.text == "男方年满22周岁"
    assert "“男方年满22周岁”（您说的是：年龄：21岁）" in render_verdict(guide, result, facts)


def test_marriage_21_year_old_woman_goes_on_to_the_spouse_question(guides: dict[str, Guide]) -> None:
    guide = guides["jiehun_dengji"]
    asked, facts = run_through(guide, {RuleField.age: 21, RuleField.gender: "女", RuleField.married: False})
    assert asked == [RuleField.age, RuleField.gender, RuleField.married]
    result = assess(guide.eligibility_rules, facts)
    assert result.outcome is Outcome.eligible
    assert [rule.text for rule in result.passed] == ["女方年满20周岁", "双方均无配偶（未婚、离婚或丧偶）"]


def test_gender_is_not_asked_when_the_age_meets_both_rules(guides: dict[str, Guide]) -> None:
    asked, _ = run_through(guides["jiehun_dengji"], {RuleField.age: 30, RuleField.married: False})
    assert asked == [RuleField.age, RuleField.married]


def test_stops_asking_as_soon_as_a_rule_fails(guides: dict[str, Guide]) -> None:
    guide = guides["gaoling_butie"]
    asked, facts = run_through(guide, {RuleField.local_hukou: False, RuleField.age: 85})
    assert asked == [RuleField.local_hukou]
    result = assess(guide.eligibility_rules, facts)
    assert result.outcome is Outcome.not_eligible and result.deciding_rule.text == "具有遵义市户籍"


def test_only_the_branch_that_applies_is_asked(guides: dict[str, Guide]) -> None:
    guide = guides["gongzufang_shenqing"]
    local = {RuleField.local_hukou: True, RuleField.age: 40, RuleField.has_local_housing: False}
    asked, facts = run_through(guide, {**local, RuleField.monthly_income_per_capita: 2500})
    assert asked[0] is RuleField.local_hukou
    assert set(asked) == {*local, RuleField.monthly_income_per_capita}
    assert assess(guide.eligibility_rules, facts).outcome is Outcome.eligible

    migrant = {RuleField.local_hukou: False, RuleField.age: 30, RuleField.has_local_housing: False}
    asked, facts = run_through(
        guide, {**migrant, RuleField.residence_months: 24, RuleField.insured_months: 6}
    )
    assert RuleField.monthly_income_per_capita not in asked
    result = assess(guide.eligibility_rules, facts)
    assert result.outcome is Outcome.not_eligible and "缴纳社会保险满12个月" in result.deciding_rule.text


def test_an_unknown_fact_means_cannot_tell_and_is_not_asked_again(guides: dict[str, Guide]) -> None:
    guide = guides["zuidi_shenghuo_baozhang_shenqing"]
    asked, facts = run_through(
        guide, {RuleField.local_hukou: True, RuleField.monthly_income_per_capita: UNKNOWN}
    )
    assert asked == [RuleField.local_hukou, RuleField.monthly_income_per_capita]
    result = assess(guide.eligibility_rules, facts)
    assert result.outcome is Outcome.cannot_tell and result.unknown_fields == (
        RuleField.monthly_income_per_capita,
    )
    assert [rule.text for rule in result.unresolved] == [guide.eligibility_rules[1].text]
    text = render_verdict(guide, result, facts)
    assert "您说不清楚家庭月人均收入" in text and guide.eligibility_rules[1].text in text


def test_an_unknown_fact_does_not_hide_a_failing_rule(guides: dict[str, Guide]) -> None:
    guide = guides["zuidi_shenghuo_baozhang_shenqing"]
    facts = {RuleField.local_hukou: UNKNOWN, RuleField.monthly_income_per_capita: 1500}
    assert assess(guide.eligibility_rules, facts).outcome is Outcome.not_eligible


def test_members_or_unit_members_society(guides: dict[str, Guide]) -> None:
    guide = guides["shehui_tuanti_chengli_dengji"]
    asked, facts = run_through(guide, {RuleField.members: 60, RuleField.unit_members: 0})
    assert asked == [RuleField.members]
    assert assess(guide.eligibility_rules, facts).outcome is Outcome.eligible
    facts = {RuleField.members: 0, RuleField.unit_members: 10}
    assert assess(guide.eligibility_rules, facts).deciding_rule.text.startswith("全部由单位会员组成")


def test_guide_without_rules_cannot_tell_and_lists_the_conditions(guides: dict[str, Guide]) -> None:
    guide = guides["putong_huzhao_qianfa"]
    result = assess(guide.eligibility_rules, {})
    assert result.outcome is Outcome.cannot_tell and result.no_rules
    assert guide.conditions[0] in render_verdict(guide, result, {})


def test_every_guide_is_decided_once_every_fact_is_known(guides: dict[str, Guide]) -> None:
    for guide in guides.values():
        facts = {
            name: 0 if name is not RuleField.gender else "女" for name in rule_fields(guide.eligibility_rules)
        }
        for name in facts:
            if any(rule.field is name and isinstance(rule.value, bool) for rule in guide.eligibility_rules):
                facts[name] = True
        outcome = assess(guide.eligibility_rules, facts).outcome
        assert outcome is not Outcome.incomplete, guide.id
