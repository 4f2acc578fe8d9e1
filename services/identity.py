"""Validate and mask personal identifiers: 居民身份证号, 统一社会信用代码, mainland mobile numbers.

Every validator returns the normalised value or raises :class:`InvalidInput` with a message
that tells the resident which kind of mistake it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import unicodedata

from services.errors import InvalidInput

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# GB/T 2260 province-level codes; the first two digits of every 身份证号 are one of these.
PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, Z, S, V
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
USCC_FORBIDDEN = "IOZSV"

_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def _normalise(value: str) -> str:
    """Full-width digits and letters (common from Chinese IMEs) become ASCII; spaces go."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value or "")).upper()


def id_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def validate_id_number(value: str, *, today: dt.date | None = None) -> str:
    """A valid 18-character 居民身份证号 (GB 11643), upper-case X; raises InvalidInput."""
    number = _normalise(value)
    field = "id_number"
    if not number:
        raise InvalidInput("请填写身份证号。", field=field)
    if len(number) != 18:
        raise InvalidInput(f"身份证号应为18位，您输入的是{len(number)}位。", field=field)
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidInput("身份证号前17位应为数字，最后一位为数字或字母X。", field=field)
    if int(number[:2]) not in PROVINCE_CODES:
        raise InvalidInput("身份证号前两位不是有效的省级行政区划代码，请核对。", field=field)
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidInput(
            f"身份证号中的出生日期“{number[6:14]}”不是有效日期，请核对。", field=field
        ) from None
    if birth > (today or dt.date.today()) or birth.year < 1900:
        raise InvalidInput(f"身份证号中的出生日期“{number[6:14]}”不合理，请核对。", field=field)
    if id_check_char(number[:17]) != number[17]:
        raise InvalidInput("身份证号校验位（最后一位）不正确，可能有数字输错，请核对。", field=field)
    return number


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(char) * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """A valid 18-character 统一社会信用代码 (GB 32100); raises InvalidInput."""
    code = _normalise(value)
    field = "uscc"
    if not code:
        raise InvalidInput("请填写统一社会信用代码。", field=field)
    if len(code) != 18:
        raise InvalidInput(f"统一社会信用代码应为18位，您输入的是{len(code)}位。", field=field)
    forbidden = sorted({char for char in code if char in USCC_FORBIDDEN})
    if forbidden:
        raise InvalidInput(
            f"统一社会信用代码不使用字母 I、O、Z、S、V，您输入了“{'、'.join(forbidden)}”，"
            "可能把数字 1、0、2、5 或字母 U 认错了。",
            field=field,
        )
    if any(char not in USCC_CHARS for char in code):
        raise InvalidInput("统一社会信用代码只能由数字和大写字母组成。", field=field)
    if not code[2:8].isdigit():
        raise InvalidInput("统一社会信用代码第3—8位应为行政区划代码（数字）。", field=field)
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidInput("统一社会信用代码校验位（最后一位）不正确，可能有字符输错，请核对。", field=field)
    return code


def validate_phone(value: str) -> str:
    """An 11-digit mainland mobile number, without +86; raises InvalidInput."""
    phone = _normalise(value).removeprefix("+86")
    if len(phone) == 13 and phone.startswith("86"):
        phone = phone[2:]
    field = "phone"
    if not phone:
        raise InvalidInput("请填写手机号。", field=field)
    if not phone.isdigit():
        raise InvalidInput("手机号只能包含数字。", field=field)
    if len(phone) != 11:
        raise InvalidInput(f"手机号应为11位，您输入的是{len(phone)}位。", field=field)
    if not _PHONE_RE.match(phone):
        raise InvalidInput("手机号应以13—19开头，请核对是否为大陆手机号。", field=field)
    return phone


# Words of a reply, not of a name: 好 申请、可以、确认、不晓得 said where a name was asked for.
_REPLY_WORDS = re.compile(
    r"申请|代办|办理|确认|可以|好的|是的|不是|谢谢|我要|我想|帮我|什么|怎么|咋个|哪个|不知道|不晓得|没问题|要得"
)
_REPLY_ONLY = frozenset({"好", "是", "对", "嗯", "行", "要", "不"})


def validate_name(value: str) -> str:
    name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or ""))
    if not name:
        raise InvalidInput("请填写姓名。", field="name")
    if len(name) > 30 or not all(char.isalpha() or char in "·." for char in name):
        raise InvalidInput("姓名只能包含文字（少数民族姓名可用“·”分隔），不超过30个字。", field="name")
    if name in _REPLY_ONLY or _REPLY_WORDS.search(name):
        raise InvalidInput("请告诉我真实姓名（与身份证上一致），例如“李秀英”。", field="name")
    return name


def mask_id_number(number: str) -> str:
    """110105********002X: region code and the last four, as on printed receipts."""
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}" if len(number) > 10 else "*" * len(number)


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "*" * len(phone)


def mask_name(name: str) -> str:
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"


def mask_text(text: str) -> str:
    """Masks ID and mobile numbers inside free text (transcripts, comments) before storing or logging."""
    text = _ID_IN_TEXT.sub(lambda m: f"{m.group(1)}********{m.group(2).upper()}", text)
    return _PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def keyed_hash(secret: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 so that a leaked database alone cannot be brute-forced back to ID tails or phones."""
    return hmac.new(secret, f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()
