"""Colloquial questions find their guide in the full sample index (not the benchmark's questions)."""

from __future__ import annotations

import pytest

from indexer.api import get_searcher

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "question, service, section",
    [
        ("咋个办个体户执照", "个体工商户设立登记", None),
        ("新农合交好多钱", "城乡居民基本医疗保险参保缴费", "fees"),
        ("娃儿上小学要准备哪样", "义务教育入学登记", "materials"),
        ("五保户咋个申请", "特困人员救助供养申请", "process"),
        ("我妈今年六十五了，老年证在哪点办", "老年人优待证办理", "location"),
        ("公租房要住满几年才能申请", "公共租赁住房申请", "conditions"),
        ("驾照快到期了咋个换", "机动车驾驶证换证", "process"),
        ("护照办下来要好久", "普通护照签发", "time_limit"),
    ],
)
def test_question_finds_its_guide(question: str, service: str, section: str | None) -> None:
    result = get_searcher().search(question, k=3)
    assert result.confident
    assert result.hits[0].title == service
    if section:
        assert result.hits[0].section == section


@pytest.mark.parametrize("question", ["什么是容缺受理", "村里有没有代办员"])
def test_policy_questions_cite_the_plan(question: str) -> None:
    top = get_searcher().search(question, k=1).hits[0]
    assert top.kind == "policy" and "遵府办发〔2017〕39号" in top.title


@pytest.mark.parametrize("question", ["今天遵义天气咋样", "帮我写一首关于秋天的诗", "茅台股票明天会涨不"])
def test_unrelated_questions_get_no_confident_match(question: str) -> None:
    assert not get_searcher().search(question, k=3).confident


def test_python_api_lists_guides_and_their_materials() -> None:
    from indexer.api import guide_materials, list_guides

    assert len(list_guides()) >= 40
    materials = guide_materials("高龄补贴申领")
    assert materials[0].name == "《遵义市高龄补贴申请审批表》"
    assert [m.name for m in guide_materials("gaoling_butie")] == [m.name for m in materials]
    with pytest.raises(KeyError):
        guide_materials("不存在的事项")
