"""Understanding residents' Chinese answers to eligibility questions."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.eligibility.answers import is_stop, parse_answer
from bot.eligibility.rules import UNKNOWN
from indexer.schema import RuleField as F

TODAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize(
    ("field", "answer", "fact"),
    [
        (F.age, "68", 68),
        (F.age, "六十八岁", 68),
        (F.age, "我今年75了", 75),
        (F.age, "快八十了", 79),
        (F.age, "八十多岁", 80),
        (F.gender, "男", "男"),
        (F.gender, "女的", "女"),
        (F.local_hukou, "是", True),
        (F.local_hukou, "对", True),
        (F.local_hukou, "要得", True),
        (F.local_hukou, "是的嘛", True),
        (F.local_hukou, "不是", False),
        (F.local_hukou, "没得", False),
        (F.local_hukou, "莫得", False),
        (F.local_hukou, "户口不在遵义", False),
        (F.local_hukou, "/affirm", True),
        (F.has_local_housing, "有", True),
        (F.has_local_housing, "没有自己的房", False),
        (F.monthly_income_per_capita, "1200块", 1200),
        (F.monthly_income_per_capita, "一千二", 1200),
        (F.monthly_income_per_capita, "一个月八百", 800),
        (F.monthly_income_per_capita, "不到八百", 799),
        (F.monthly_income_per_capita, "没得收入", 0),
        (F.monthly_income_per_capita, "全家3口人一共2400", 800),
        (F.residence_months, "两年", 24),
        (F.residence_months, "半年", 6),
        (F.residence_months, "一年半", 18),
        (F.residence_months, "一年三个月", 15),
        (F.insured_months, "18个月", 18),
        (F.days_since_birth, "20天", 20),
        (F.days_since_birth, "两个月", 60),
        (F.days_to_expiry, "还有两个月", 60),
        (F.days_to_expiry, "过期半年", -182),
        (F.days_to_expiry, "2027年1月1日", 36),
        (F.disability_grade, "二级", 2),
        (F.disability_grade, "没有", 0),
        (F.members, "60", 60),
        (F.unit_members, "没有", 0),
        (F.married, "离婚了", False),
        (F.married, "已婚", True),
        (F.employed, "失业了", False),
        (F.employed, "在上班", True),
    ],
)
def test_answers_are_understood(field: F, answer: str, fact: object) -> None:
    assert parse_answer(field, answer, today=TODAY) == fact


@pytest.mark.parametrize("answer", ["不晓得", "不清楚", "我也不知道", "记不得了"])
def test_dont_know_is_a_fact_not_a_failure(answer: str) -> None:
    assert parse_answer(F.monthly_income_per_capita, answer) is UNKNOWN
    assert parse_answer(F.local_hukou, answer) is UNKNOWN


@pytest.mark.parametrize(
    ("field", "answer"),
    [
        (F.age, "哈哈"),
        (F.age, "200"),
        (F.gender, "男女"),
        (F.residence_months, "3"),
        (F.disability_grade, "五级"),
    ],
)
def test_unclear_answers_are_refused(field: F, answer: str) -> None:
    assert parse_answer(field, answer) is None


def test_values_read_back_from_slots_are_kept() -> None:
    assert parse_answer(F.age, 68) == 68
    assert parse_answer(F.local_hukou, False) is False
    assert parse_answer(F.local_hukou, 3) is None
    assert parse_answer(F.age, "不清楚") is UNKNOWN


def test_stop_phrases() -> None:
    assert is_stop("算了算了") and is_stop("不查了")
    assert not is_stop("没有")
