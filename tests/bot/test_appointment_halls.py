"""Which hall a resident means, from the names they actually use (bot/actions/appointment/halls.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.actions.appointment.halls import HallName, hall_choice, hall_names, load_aliases, resolve_hall
from core.settings import get_settings
from services.catalog import load_halls

HALLS_FILE = get_settings().knowledge.halls_file
HALLS = hall_names(load_halls(HALLS_FILE), load_aliases(HALLS_FILE))
BY_ID = {hall.id: hall for hall in HALLS}
# The halls that take 普通护照签发 appointments (knowledge/guides/putong_huzhao_qianfa.yaml).
PASSPORT = [BY_ID[i] for i in ("city", "honghuagang", "huichuan", "renhuai")]


def ids(said: str, halls: list[HallName] = HALLS) -> list[str]:
    return [hall.id for hall in resolve_hall(said, halls).halls]


@pytest.mark.parametrize(
    ("said", "hall"),
    [
        ("遵义市政务服务中心", "city"),  # the exact name
        ("市政务服务中心", "city"),  # without 遵义
        ("我想预约后天去市政务服务中心办护照", "city"),
        ("市中心", "city"),
        ("市政务中心", "city"),
        ("就去市大厅吧", "city"),
        ("红花岗那个大厅", "honghuagang"),
        ("红花岗区的", "honghuagang"),
        ("遵义市红花岗区", "honghuagang"),  # the prefecture in front is an address, not a hall
        ("汇川的政务大厅", "huichuan"),
        ("新蒲那个", "xinpu"),
        ("播州", "bozhou"),
        ("遵义县", "bozhou"),  # its old name, an alias in halls.yaml
        ("仁怀", "renhuai"),
        ("仁怀市政务服务中心", "renhuai"),  # not 遵义's 市政务服务中心 inside it
        ("道真县那边", "daozhen"),
        ("务川仡佬族苗族自治县政务服务中心", "wuchuan"),
        ("凤岗", "fenggang"),  # pinyin-input slips: same sound, one character shared
        ("湄谭县", "meitan"),
        ("红花冈那个", "honghuagang"),
        ("city", "city"),  # a hall id, as buttons and the services API use
        ("遵义", "city"),  # the prefecture alone: its own hall
    ],
)
def test_a_hall_is_found_by_what_residents_call_it(said: str, hall: str) -> None:
    assert ids(said) == [hall]


@pytest.mark.parametrize(
    ("said", "halls"),
    [("汇川还是红花岗都可以", ["huichuan", "honghuagang"]), ("仁怀市中心", ["renhuai", "city"])],
)
def test_two_halls_named_equally_are_both_kept(said: str, halls: list[str]) -> None:
    match = resolve_hall(said, HALLS)
    assert match.ambiguous and match.hall is None
    assert [hall.id for hall in match.halls] == halls


@pytest.mark.parametrize("said", ["政务服务中心", "大厅", "火车站旁边那个", "帮我约明天去办低保"])
def test_words_that_name_no_hall_find_none(said: str) -> None:
    assert resolve_hall(said, HALLS).halls == ()


def test_sound_alike_names_are_only_read_when_asked_for() -> None:
    assert ids("凤岗") == ["fenggang"]
    assert resolve_hall("凤岗", HALLS, sound_alike=False).halls == ()


def test_an_ambiguous_answer_is_asked_back_with_the_candidates() -> None:
    choice = hall_choice(resolve_hall("汇川还是红花岗", HALLS), PASSPORT, "普通护照签发")
    assert choice.text == "您说的可能是汇川区政务服务中心或红花岗区政务服务中心，请问去哪一个？"
    assert [hall.id for hall in choice.halls] == ["huichuan", "honghuagang"]


def test_an_unknown_hall_is_told_with_the_halls_to_choose_from() -> None:
    choice = hall_choice(resolve_hall("火车站旁边那个", HALLS), PASSPORT, "普通护照签发")
    assert choice.text.startswith("没有找到您说的“火车站旁边那个”这个政务服务大厅。")
    assert "可以预约办理「普通护照签发」的大厅有：遵义市政务服务中心、红花岗区政务服务中心、" in choice.text
    assert choice.halls == tuple(PASSPORT)


def test_a_hall_without_the_service_offers_those_with_it() -> None:
    choice = hall_choice(resolve_hall("新蒲那个", HALLS), PASSPORT, "普通护照签发")
    assert choice.text.startswith("新蒲新区政务服务中心不能预约办理「普通护照签发」。可以预约的大厅有：")
    assert choice.halls == tuple(PASSPORT)
    # Of two halls named, the only one that offers the service is proposed.
    choice = hall_choice(resolve_hall("新蒲还是汇川", HALLS), PASSPORT, "普通护照签发")
    assert choice.text == "新蒲新区政务服务中心不能预约办理「普通护照签发」，请问是去汇川区政务服务中心吗？"
    assert [hall.id for hall in choice.halls] == ["huichuan"]


def test_aliases_are_read_from_halls_yaml(tmp_path: Path) -> None:
    assert "市中心" in BY_ID["city"].aliases
    broken = tmp_path / "halls.yaml"
    broken.write_text("halls:\n  - id: city\n    aliases: 市中心\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"halls.0.aliases"):
        load_aliases(broken)
