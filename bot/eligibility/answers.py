"""Understand a resident's Chinese answer to one eligibility question.

`parse_answer` returns the fact, `UNKNOWN` for 不晓得/不清楚, or None when the answer can't be
understood (the form then re-asks with `FIELDS[field].hint`). Chinese numerals go through
cn2an (六十八 → 68, 一千二 → 1200, 两年 → 2年).
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass
from enum import Enum

import cn2an

from bot.eligibility.rules import UNKNOWN, Fact, FactValue
from indexer.schema import RuleField


class Kind(Enum):
    years = "years"
    yes_no = "yes_no"
    gender = "gender"
    money = "money"
    months = "months"
    days = "days"
    signed_days = "signed_days"
    count = "count"
    grade = "grade"


@dataclass(frozen=True)
class FieldSpec:
    kind: Kind
    label: str
    hint: str
    # Field-specific words that mean yes / no besides the general 是/有/对 … and 不是/没有 …
    yes_words: tuple[str, ...] = ()
    no_words: tuple[str, ...] = ()


FIELDS: dict[RuleField, FieldSpec] = {
    RuleField.age: FieldSpec(Kind.years, "年龄", "请直接说周岁数，比如“68”或“六十八岁”。"),
    RuleField.gender: FieldSpec(Kind.gender, "性别", "请回答“男”或“女”。"),
    RuleField.local_hukou: FieldSpec(
        Kind.yes_no,
        "是否遵义户籍",
        "请回答“是”或“不是”（户口在遵义市就算）。",
        yes_words=("本地", "遵义", "本市"),
        no_words=("外地", "外省", "外市", "外县", "不在"),
    ),
    RuleField.residence_months: FieldSpec(
        Kind.months, "在本市居住时间", "请说住了多久，比如“两年”“8个月”“半年”。"
    ),
    RuleField.monthly_income_per_capita: FieldSpec(
        Kind.money, "家庭月人均收入", "请说每人每月大约多少元，比如“600块”“一千二”；没有收入就说“没有”。"
    ),
    RuleField.has_local_housing: FieldSpec(
        Kind.yes_no,
        "本地是否有自有住房",
        "请回答“有”或“没有”。",
        yes_words=("自己的房",),
        no_words=("租房", "租的"),
    ),
    RuleField.disability_grade: FieldSpec(
        Kind.grade, "残疾等级", "请说残疾证上的等级，比如“二级”；没有残疾证就说“没有”。"
    ),
    RuleField.employed: FieldSpec(
        Kind.yes_no,
        "目前是否就业",
        "请回答“有工作”或“没有工作”。",
        yes_words=("上班", "在做", "打工", "就业了"),
        no_words=("失业", "下岗", "待业", "没上班", "没工作", "没得工作", "没活路"),
    ),
    RuleField.insured_months: FieldSpec(
        Kind.months, "连续缴纳社保时间", "请说交了多久，比如“一年半”“18个月”。"
    ),
    RuleField.days_since_birth: FieldSpec(
        Kind.days, "出生天数", "请说宝宝出生多少天了，比如“20天”“两个月”。"
    ),
    RuleField.days_to_expiry: FieldSpec(
        Kind.signed_days,
        "距证件有效期满",
        "请说还有多久到期，比如“还有两个月”；已经过期的说“过期半年”。",
    ),
    RuleField.members: FieldSpec(Kind.count, "个人会员数", "请说个人会员的人数，比如“60”；没有就说“0”。"),
    RuleField.unit_members: FieldSpec(
        Kind.count, "单位会员数", "请说单位会员的个数，比如“35”；没有就说“0”。"
    ),
    RuleField.married: FieldSpec(
        Kind.yes_no,
        "是否已婚",
        "请回答“已婚”或“未婚”（离婚、丧偶算未婚）。",
        yes_words=("已婚", "结了", "结过了", "有老公", "有老婆", "有爱人"),
        no_words=("未婚", "单身", "离婚", "离了", "丧偶", "没结", "还没结"),
    ),
}

_UNKNOWN_WORDS = (
    "不晓得",
    "不知道",
    "不清楚",
    "晓不得",
    "搞不清",
    "说不准",
    "不确定",
    "记不得",
    "记不清",
    "忘了",
)
_NO_WORDS = ("不是", "不对", "没得", "没有", "莫得", "莫有", "没", "无", "否", "不")
_YES_WORDS = ("是", "对", "要得", "有", "嗯", "在", "可以", "当然", "肯定")
_STOP_WORDS = ("算了", "不问了", "不查了", "不测了", "不办了", "取消", "退出", "不用了", "不弄了")
_NONE_WORDS = ("没有", "没得", "莫得", "无", "零")

_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(万|千|k|K|百)?")
_UNIT_SCALE = {"万": 10000, "千": 1000, "k": 1000, "K": 1000, "百": 100}


def is_stop(text: str) -> bool:
    """算了/不问了: the resident wants to leave the eligibility check."""
    return any(word in text for word in _STOP_WORDS)


def _clean(text: str) -> str:
    # cn2an would read the 一 of 一共 as a number.
    text = re.sub(r"\s+", "", text).replace("一共", "总共")
    if not re.search(r"[零〇一二两三四五六七八九十百千万]", text):
        return text
    with warnings.catch_warnings():
        # cn2an warns about fragments it leaves alone, such as the 万 of 1.2万.
        warnings.simplefilter("ignore")
        try:
            converted: str = cn2an.transform(text, "cn2an")
        except (ValueError, KeyError):
            return text
    return converted


def _numbers(text: str) -> list[float]:
    return [float(value) * _UNIT_SCALE.get(unit or "", 1) for value, unit in _NUMBER.findall(text)]


def _approximate(text: str, value: float, step: float) -> float:
    """不到18/快80了 mean just under; 80多/一年多 are at least the number."""
    return value - step if re.search(r"不到|不满|快|差一?点|将近", text) else value


def _yes_no(text: str, spec: FieldSpec) -> bool | None:
    # Negations first: 没有自己的房 contains 自己的房, 户口不在遵义 contains 遵义.
    for words, answer in (
        (spec.no_words, False),
        (_NO_WORDS, False),
        (spec.yes_words, True),
        (_YES_WORDS, True),
    ):
        if any(word in text for word in words):
            return answer
    return None


def _gender(text: str) -> str | None:
    female = any(word in text for word in ("女", "妇", "姑娘"))
    male = any(word in text for word in ("男", "先生", "小伙"))
    if female == male:
        return None
    return "女" if female else "男"


def _years(text: str) -> int | None:
    numbers = _numbers(text)
    if len(numbers) != 1 or not 0 <= numbers[0] <= 130:
        return None
    return int(_approximate(text, numbers[0], 1))


def _money(text: str) -> int | None:
    text = re.sub(r"(每|一|1)个?月|月收入|每人|人均", "", text)
    if not _numbers(text) and any(word in text for word in _NONE_WORDS):
        return 0
    people = re.search(r"(\d+)(?:个人|口人|口)", text)
    numbers = _numbers(re.sub(r"(\d+)(?:个人|口人|口)", "", text))
    if len(numbers) != 1:
        return None
    total = numbers[0]
    if people and int(people.group(1)) > 0 and re.search(r"总共|全家|家里", text):
        total /= int(people.group(1))
    return int(_approximate(text, total, 1))


_DURATION = re.compile(r"(\d+(?:\.\d+)?)?(半)?(?:个)?(年|个月|月|周|星期|礼拜|天|日)(半)?")
_DAYS_PER = {"年": 365, "个月": 30, "月": 30, "周": 7, "星期": 7, "礼拜": 7, "天": 1, "日": 1}


def _duration_days(text: str) -> float | None:
    """两年半 → 912.5, 半个月 → 15, 3个礼拜 → 21; None if no unit was said."""
    total = 0.0
    found = False
    for number, half_before, unit, half_after in _DURATION.findall(text):
        if not number and not half_before:
            continue
        amount = float(number) if number else 0.0
        amount += 0.5 if (half_before or half_after) else 0.0
        total += amount * _DAYS_PER[unit]
        found = True
    return total if found else None


def _months(text: str) -> int | None:
    days = _duration_days(text)
    if days is None:
        return None
    months = days / 365 * 12 if "年" in text else days / 30
    return int(_approximate(text, round(months, 1), 1))


def _days(text: str, *, signed: bool, today: dt.date) -> int | None:
    date = re.search(r"(\d{4})[年\-/.](\d{1,2})[月\-/.](\d{1,2})", text)
    if signed and date:
        try:
            return (dt.date(*(int(part) for part in date.groups())) - today).days
        except ValueError:
            return None
    days = _duration_days(text)
    if days is None:
        numbers = _numbers(text)
        if signed or len(numbers) != 1:
            return None
        days = numbers[0]
    if signed and re.search(r"过期|超过|超期|过了|逾期", text):
        return -int(days)
    return int(_approximate(text, days, 1))


def _grade(text: str) -> int | None:
    numbers = _numbers(text)
    if not numbers:
        return 0 if any(word in text for word in _NONE_WORDS) else None
    grade = int(numbers[0])
    return grade if len(numbers) == 1 and 1 <= grade <= 4 else None


def _count(text: str) -> int | None:
    numbers = _numbers(text)
    if not numbers:
        return 0 if any(word in text for word in _NONE_WORDS) else None
    return int(numbers[0]) if len(numbers) == 1 else None


def parse_answer(field: RuleField, answer: object, *, today: dt.date | None = None) -> Fact | None:
    """The fact an answer gives, UNKNOWN for 不清楚, None when it can't be understood.

    Values already parsed (a slot read back from the tracker) are returned as they are.
    """
    spec = FIELDS[field]
    if isinstance(answer, bool):
        return answer if spec.kind is Kind.yes_no else None
    if isinstance(answer, int):
        return answer if spec.kind not in (Kind.yes_no, Kind.gender) else None
    if not isinstance(answer, str) or not answer.strip():
        return None
    text = answer.strip()
    if text == UNKNOWN.value or any(word in text for word in _UNKNOWN_WORDS):
        return UNKNOWN
    if text in ("/affirm", "/deny") and spec.kind is Kind.yes_no:
        return text == "/affirm"
    value: FactValue | None
    if spec.kind is Kind.yes_no:
        value = _yes_no(text, spec)
    elif spec.kind is Kind.gender:
        value = _gender(text)
    else:
        text = _clean(text)
        if spec.kind is Kind.years:
            value = _years(text)
        elif spec.kind is Kind.money:
            value = _money(text)
        elif spec.kind is Kind.months:
            value = _months(text)
        elif spec.kind in (Kind.days, Kind.signed_days):
            value = _days(text, signed=spec.kind is Kind.signed_days, today=today or dt.date.today())
        elif spec.kind is Kind.grade:
            value = _grade(text)
        else:
            value = _count(text)
    return value


def describe_fact(field: RuleField, fact: Fact) -> str:
    """The resident's answer in words, for quoting it back: 21岁, 不是遵义户籍, 不清楚."""
    if fact is UNKNOWN:
        return "不清楚"
    spec = FIELDS[field]
    if spec.kind is Kind.yes_no:
        return f"{spec.label}：{'是' if fact else '否'}"
    units = {
        Kind.years: "岁",
        Kind.money: "元",
        Kind.months: "个月",
        Kind.days: "天",
        Kind.count: "个",
        Kind.grade: "级",
    }
    if spec.kind is Kind.signed_days and isinstance(fact, int) and not isinstance(fact, bool):
        return f"还有{fact}天到期" if fact >= 0 else f"已过期{-fact}天"
    if spec.kind is Kind.grade and fact == 0:
        return "没有残疾证"
    return f"{spec.label}：{fact}{units.get(spec.kind, '')}"
