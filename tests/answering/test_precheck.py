"""预审 on the real guides, bundles and dictionary: colloquial names, negations, 容缺, electronic
licences, words that are no material of the service, and a verdict that quotes its rule."""

from __future__ import annotations

import pytest

from answering.precheck import PreCheck, Verdict, precheck, render_precheck
from core.settings import PROJECT_ROOT
from indexer.bundle_plan import BundlePlan, plan_bundle
from indexer.bundles import load_bundles
from indexer.dictionary import DomainDictionary, load_dictionary
from indexer.loader import load_guides
from indexer.schema import Guide

KNOWLEDGE = PROJECT_ROOT / "knowledge"


@pytest.fixture(scope="module")
def guides() -> dict[str, Guide]:
    return {loaded.guide.id: loaded.guide for loaded in load_guides(KNOWLEDGE / "guides").guides}


@pytest.fixture(scope="module")
def dictionary(guides: dict[str, Guide]) -> DomainDictionary:
    return load_dictionary(KNOWLEDGE / "dictionary", guides.values())


@pytest.fixture(scope="module")
def newborn(guides: dict[str, Guide], dictionary: DomainDictionary) -> BundlePlan:
    bundle = load_bundles(KNOWLEDGE / "bundles", guides.keys()).get("xinshenger_chusheng")
    assert bundle is not None
    return plan_bundle(bundle, guides, dictionary)


def names(items: object) -> list[str]:
    return [getattr(item, "item", item).name for item in items]  # type: ignore[attr-defined]


def test_colloquial_names_find_the_guides_documents(
    guides: dict[str, Guide], dictionary: DomainDictionary
) -> None:
    said = precheck(guides["chusheng_dengji"], dictionary, text="我有身份证和户口本")
    assert names(said.has) == ["落户方的居民户口簿", "父母双方居民身份证"]
    ticked = precheck(guides["chusheng_dengji"], dictionary, ticked=["户口本", "二代证"])
    assert names(ticked.has) == names(said.has)
    assert not said.missing and said.verdict is Verdict.go


@pytest.mark.parametrize(
    "text",
    [
        "没有身份证",
        "身份证找不到了",
        "身份证丢了",
        "我的身份证不见了",
        "身份证还没办",
        "户口本有，身份证莫得",
    ],
)
def test_a_negated_material_is_missing_and_the_verdict_says_gather_first(
    guides: dict[str, Guide], dictionary: DomainDictionary, text: str
) -> None:
    result = precheck(guides["jiehun_dengji"], dictionary, text=text)
    assert result.verdict is Verdict.gather_first
    assert [(g.item.name, g.said_lacking) for g in result.missing] == [("双方本人居民身份证", True)]
    assert "双方本人居民身份证" not in names(result.has)


def test_all_of_a_run_is_had_and_a_later_negation_speaks_for_its_own_material(
    guides: dict[str, Guide], dictionary: DomainDictionary
) -> None:
    renew = guides["shenfenzheng_huanling_buling"]
    result = precheck(renew, dictionary, text="身份证 户口本都有 照片还没照", situation="daoqi_huanling")
    assert names(result.has) == ["居民户口簿", "原居民身份证"]
    # The hall takes the photo: lacking it is no reason to stay home.
    assert "本人相片" in names(result.on_site) and result.verdict is Verdict.go
    mixed = precheck(guides["gaoling_butie"], dictionary, text="有户口本 身份证 社保卡还没办")
    assert names(mixed.has) == ["老年人居民身份证", "居民户口簿"]
    assert [g.said_lacking for g in mixed.deferrable] == [True]
    # Either document of an "A或B" line will do: the bank card alone fills it.
    assert precheck(guides["gaoling_butie"], dictionary, text="社保卡没办，有银行卡").deferrable == ()


def test_a_deferrable_gap_lets_the_resident_go_now_and_says_by_when(
    guides: dict[str, Guide], dictionary: DomainDictionary
) -> None:
    result = precheck(guides["gaoling_butie"], dictionary, text="我有户口本和身份证，社保卡还没办")
    assert result.verdict is Verdict.go_deferred and not result.missing
    (gap,) = result.deferrable
    assert gap.item.name == "社会保障卡或本人银行账户" and gap.item.deadline == "发放前补交"
    text = render_precheck(result)
    assert "可以先去办（容缺受理）" in text and "发放前补交" in text and "遵府办发〔2017〕39号" in text


def test_an_electronic_licence_is_not_asked_for_even_when_lacking(
    guides: dict[str, Guide], dictionary: DomainDictionary
) -> None:
    birth = guides["chusheng_dengji"]
    result = precheck(
        birth, dictionary, text="户口本 身份证都有，结婚证找不到了", situation="hunnei_yigeyue_nei"
    )
    assert names(result.electronic) == ["出生医学证明", "父母结婚证"]
    assert result.verdict is Verdict.go and not result.missing
    assert "不用带：出生医学证明、父母结婚证（窗口调取电子证照）" in render_precheck(result)


def test_words_that_are_no_material_of_the_service_are_reported_as_said(
    guides: dict[str, Guide], dictionary: DomainDictionary
) -> None:
    # 结婚登记 no longer asks for the 户口簿 (婚姻登记条例 2025): the resident should hear so.
    marriage = precheck(guides["jiehun_dengji"], dictionary, text="我有身份证和户口本，结婚证找不到了")
    assert marriage.unmatched == ("户口本", "结婚证")
    assert names(marriage.has) == ["双方本人居民身份证"]
    renew = precheck(guides["shenfenzheng_huanling_buling"], dictionary, text="有户口本，还有驾照和房产证明")
    assert renew.unmatched == ("驾照", "房产证明")
    assert precheck(guides["gaoling_butie"], dictionary, ticked=["户口本", "房产证"]).unmatched == ("房产证",)
    # Naming the service is no material at all.
    assert (
        precheck(guides["chusheng_dengji"], dictionary, text="娃儿上户口，户口本身份证都有").unmatched == ()
    )


def test_the_verdict_quotes_the_rule_and_the_source_and_says_it_is_a_precheck(
    guides: dict[str, Guide], dictionary: DomainDictionary
) -> None:
    result = precheck(guides["jiehun_dengji"], dictionary, text="身份证丢了")
    assert result.rule == (
        "双方本人居民身份证（原件）：《婚姻登记条例》（国务院令第804号）关于内地居民申请结婚登记应当出具的证件",
    )
    text = render_precheck(result)
    lines = text.splitlines()
    assert lines[0].startswith("「结婚登记」材料预审：带齐后再去。")
    assert (
        "1. 还缺：双方本人居民身份证（原件，您说没有）："
        "须在有效期内；身份证丢失正在补办的，可持临时居民身份证办理" in lines
    )
    assert "依据：双方本人居民身份证" in text and "《婚姻登记条例》" in text
    assert "来源：《结婚登记》办事指南" in text and "示例数据，以贵州政务服务网公布为准" in text
    assert lines[-1] == "这是材料预审，不是审批结果，能否受理以窗口审核为准。"


def test_saying_nothing_leaves_every_material_to_bring_missing(
    guides: dict[str, Guide], dictionary: DomainDictionary
) -> None:
    result = precheck(guides["jiehun_dengji"], dictionary)
    assert result.verdict is Verdict.gather_first
    assert [(g.item.name, g.said_lacking) for g in result.missing] == [("双方本人居民身份证", False)]
    # The situation is unknown: the reply says the list may change with it.
    assert "离婚或丧偶后再婚" in result.other_situations
    assert "材料会有增减" in render_precheck(result)


def test_a_situation_the_guide_does_not_have_is_refused(
    guides: dict[str, Guide], dictionary: DomainDictionary
) -> None:
    with pytest.raises(ValueError, match="没有情形"):
        precheck(guides["jiehun_dengji"], dictionary, situation="no_such_case")


def test_a_bundle_asks_each_document_once_and_not_what_an_earlier_step_issues(
    newborn: BundlePlan, dictionary: DomainDictionary
) -> None:
    result: PreCheck = precheck(newborn, dictionary, text="身份证户口本都有，结婚证找不到了")
    assert names(result.has) == ["居民身份证", "居民户口簿"]
    assert names(result.issued) == ["出生医学证明"] and result.issued[0].issued_by == 2
    assert names(result.electronic) == ["结婚证"]
    assert result.verdict is Verdict.go
    text = render_precheck(result)
    assert "出生医学证明（第2步办出）" in text and "来源：“新生儿出生一件事”" in text
    assert "居民户口簿（原件和复印件1份，第2、3、5步）：《出生医学证明办理》" in text


def test_the_reply_fits_a_phone(guides: dict[str, Guide], dictionary: DomainDictionary) -> None:
    text = render_precheck(precheck(guides["gaoling_butie"], dictionary, text="户口本身份证都有，社保卡没有"))
    assert len(text.splitlines()) <= 12
