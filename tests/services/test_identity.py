from __future__ import annotations

import datetime as dt
import random

import pytest

from services.errors import InvalidInput
from services.identity import (
    id_check_char,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
    uscc_check_char,
    validate_id_number,
    validate_phone,
    validate_uscc,
)

TODAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002X",
        "11010519491231002x",
        " 110105 19491231 002X ",
        "１１０１０５１９４９１２３１００２Ｘ",
    ],
)
def test_accepts_valid_id_numbers_in_the_forms_people_type(raw: str) -> None:
    assert validate_id_number(raw, today=TODAY) == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "请填写身份证号"),
        ("11010519491231002", "应为18位，您输入的是17位"),
        ("1101051949123100200", "应为18位，您输入的是19位"),
        ("11010519491231002Y", "最后一位为数字或字母X"),
        ("1101051949123100X2", "前17位应为数字"),
        ("99010519491231002X", "省级行政区划代码"),
        ("11010519490230002X", "出生日期“19490230”不是有效日期"),
        ("11010520301231002X", "出生日期“20301231”不合理"),
        ("110105194912310021", "校验位"),
    ],
)
def test_each_id_number_mistake_gets_its_own_chinese_message(raw: str, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_id_number(raw, today=TODAY)
    assert says in caught.value.message
    assert caught.value.field == "id_number"


def test_check_character_follows_gb11643_for_many_numbers() -> None:
    rng = random.Random(7)
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for _ in range(500):
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(25_000))
        first17 = f"520302{birth:%Y%m%d}{rng.randrange(1000):03d}"
        expected = "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]
        assert id_check_char(first17) == expected
        assert validate_id_number(first17 + expected, today=TODAY) == first17 + expected


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "91520300MA6DKXYL5E"])
def test_accepts_valid_unified_social_credit_codes(code: str) -> None:
    if uscc_check_char(code[:17]) != code[17]:  # the third is made valid here, the first two are published
        code = code[:17] + uscc_check_char(code[:17])
    assert validate_uscc(code.lower()) == code


def test_uscc_check_character_uses_powers_of_three_mod_31() -> None:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = "91350100M000100Y4"
    total = sum(chars.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    assert uscc_check_char(first17) == chars[(31 - total % 31) % 31] == "3"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("91350100M000100Y4", "应为18位"),
        ("91350100M0001OOY43", "不使用字母 I、O、Z、S、V，您输入了“O”"),
        ("9135010OM000100Y4S", "“O、S”"),
        ("91350100M000100Y4#", "只能由数字和大写字母组成"),
        ("91AB0100M000100Y43", "第3—8位应为行政区划代码"),
        ("91350100M000100Y44", "校验位"),
    ],
)
def test_each_uscc_mistake_gets_its_own_chinese_message(raw: str, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_uscc(raw)
    assert says in caught.value.message


@pytest.mark.parametrize(
    "raw", ["15800009119", "158 0000 9119", "158-0000-9119", "+8615800009119", "8615800009119"]
)
def test_accepts_mainland_mobile_numbers(raw: str) -> None:
    assert validate_phone(raw) == "15800009119"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "请填写手机号"),
        ("1580000911", "应为11位，您输入的是10位"),
        ("12800009119", "应以13—19开头"),
        ("1580000911a", "只能包含数字"),
        ("0851-28888001", "应为11位"),
    ],
)
def test_each_phone_mistake_gets_its_own_chinese_message(raw: str, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_phone(raw)
    assert says in caught.value.message


def test_masks_match_the_printed_receipt_forms() -> None:
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_phone("15800009119") == "158****9119"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳修文") == "欧**文"


def test_masks_identifiers_inside_free_text() -> None:
    text = "身份证11010519491231002x，电话15800009119，编号ZW202611260001不变"
    masked = mask_text(text)
    assert masked == "身份证110105********002X，电话158****9119，编号ZW202611260001不变"
