"""The answering core on the real index, without Rasa: what one turn is answered with."""

from __future__ import annotations

import pytest

from answering.core import decide
from answering.decision import Kind
from answering.render import render
from answering.turn import Turn
from indexer.api import get_guide

pytestmark = pytest.mark.slow


def guide_of(text: str, **context: object) -> str | None:
    decision = decide(Turn(text=text, **context))  # type: ignore[arg-type]
    return decision.guide.name if decision.guide else None


def test_a_named_service_is_answered_for_the_aspect_the_words_ask() -> None:
    decision = decide(Turn(text="新农合今年交好多钱"))
    assert decision.kind is Kind.answer and decision.evidence == "named"
    assert decision.guide is not None and decision.guide.name == "城乡居民基本医疗保险参保缴费"
    assert decision.aspect == "fees"


def test_the_entity_the_nlu_found_wins_and_its_intent_sets_the_aspect() -> None:
    decision = decide(Turn(text="这个要带啥", intent="ask_materials", services=("高龄补贴申领",)))
    assert decision.guide is not None and decision.guide.name == "高龄补贴申领"
    assert decision.aspect == "materials"


def test_a_follow_up_leans_on_the_remembered_service() -> None:
    decision = decide(Turn(text="那在哪点办嘛", intent="ask_location", remembered_service="高龄补贴申领"))
    assert decision.evidence == "remembered" and decision.guide is not None
    assert decision.guide.name == "高龄补贴申领" and decision.aspect == "location"


def test_another_service_named_in_a_follow_up_replaces_the_remembered_one() -> None:
    assert guide_of("结婚登记要带些啥", remembered_service="高龄补贴申领") == "结婚登记"


@pytest.mark.parametrize("remembered", ["失业保险金申领", "最低生活保障申请"])
def test_a_short_question_about_another_service_is_not_answered_for_the_earlier_one(remembered: str) -> None:
    # 结婚 is no alias of 结婚登记 and the question tells no story, yet it names that guide.
    assert guide_of("结婚要带啥子", intent="ask_materials", remembered_service=remembered) == "结婚登记"
    assert guide_of("一个月发好多钱", remembered_service=remembered) == remembered
    assert guide_of("那要带些啥", intent="ask_materials", remembered_service=remembered) == remembered


def test_how_government_services_work_is_answered_from_the_plan() -> None:
    decision = decide(Turn(text="啥子叫容缺受理"))
    assert decision.kind is Kind.policy and decision.policy is not None
    assert "39号" in decision.policy.title


def test_off_topic_by_the_nlu_is_refused_unless_the_words_ask_for_a_service() -> None:
    refused = decide(Turn(text="开小吃店卖什么最赚钱", intent="out_of_scope", confidence=0.8))
    assert refused.kind is Kind.out_of_scope
    asked = decide(Turn(text="开小吃店要办哪样证", intent="out_of_scope", confidence=0.8))
    assert asked.kind in (Kind.answer, Kind.bundle)  # 食品经营许可证, or the 开办餐饮店 event


@pytest.mark.parametrize(
    "text",
    [
        "新蒲新区现在的房价一平米多少钱",
        "卖老房子，二手房中介费一般收几个点",
        "过年买烟花一箱大概好多钱",
        "微耕机打不燃火是啥子原因",
        "明天遵义天气咋样",
        "娃儿发烧39度 吃啥子药",
    ],
)
def test_prices_of_goods_and_repairs_are_refused_however_many_service_words_they_share(text: str) -> None:
    assert decide(Turn(text=text)).kind is Kind.out_of_scope


def test_a_price_agreed_in_a_story_does_not_make_a_service_question_off_topic() -> None:
    text = "看中一套二手房，跟房东价钱谈好了，下一步咋个把房子弄到我名下"
    decision = decide(Turn(text=text, intent="ask_process"))
    assert decision.kind is not Kind.out_of_scope


def test_replacing_a_document_the_guide_does_not_cover_is_not_answered_with_its_first_issue() -> None:
    decision = decide(Turn(text="结婚证搞丢了咋个补办"))
    assert decision.kind is Kind.not_sure and decision.guide is not None
    reply = render(decision)
    assert "没有补办" in reply.text and "可凭身份证到任一婚姻登记机关申请补领" in reply.text
    assert "来源：《结婚登记》" in reply.text and "双方" not in reply.text.split("\n")[0]


@pytest.mark.parametrize(
    ("text", "service", "procedure"),
    [
        ("烟花爆竹批发许可证怎么办", "烟花爆竹经营(零售)许可证核发", "批发"),
        ("驾驶证年审在哪里", "机动车驾驶证换证", "年审"),
        ("房子抵押登记在哪里办", "不动产登记(转移登记)", "抵押登记"),
    ],
)
def test_a_neighbouring_procedure_no_guide_covers_is_said_to_be_missing(
    text: str, service: str, procedure: str
) -> None:
    decision = decide(Turn(text=text))
    assert decision.kind is Kind.not_sure and decision.uncovered == procedure
    reply = render(decision).text
    assert f"没有{procedure}的办事指南" in reply and f"「{service}」不包括{procedure}" in reply


def test_a_procedure_the_guide_covers_is_answered() -> None:
    text = "离婚了房子判给我了，咋个把房产证上的名字改成我一个人的嘛"
    assert guide_of(text, intent="ask_process") == "不动产登记(转移登记)"
    assert guide_of("营业执照注销怎么办") == "企业简易注销登记"


@pytest.mark.parametrize(
    ("text", "service"),
    [("身份证丢了咋个补办", "居民身份证换领补领"), ("娃儿的出生证遭搞丢了，咋个补嘛", "出生医学证明办理")],
)
def test_replacing_a_document_is_answered_by_the_guide_that_covers_it(text: str, service: str) -> None:
    assert guide_of(text) == service


def test_nonsense_is_not_answered() -> None:
    decision = decide(Turn(text="阿巴阿巴 蓝色的月亮跳舞"))
    assert decision.kind is Kind.not_sure
    reply = render(decision)
    assert "没有把握" in reply.text and "12345" in reply.text


def test_a_tapped_button_carries_its_service_and_situation() -> None:
    guide = get_guide("失业保险金申领")
    assert guide is not None and guide.situations
    situation = guide.situations[0]
    decision = decide(
        Turn(
            text=f'/ask_materials{{"service": "{guide.name}", "situation": "{situation.id}"}}',
            intent="ask_materials",
            services=(guide.name,),
            situation=situation.id,
        )
    )
    assert decision.kind is Kind.answer and decision.situation == situation
    reply = render(decision)
    assert situation.name in reply.text and f"来源：《{guide.name}》" in reply.text


def test_a_described_situation_is_recognised_and_said() -> None:
    decision = decide(Turn(text="单位把我辞退了，现在没得收入，能领点啥子不"))
    assert decision.guide is not None and decision.guide.name == "失业保险金申领"
    assert decision.situation is not None and decision.situation_recognised
    assert f"您说的是“{decision.situation.name}”的情形" in render(decision).text


def test_materials_of_a_guide_whose_situations_differ_ask_which_one() -> None:
    guide = next(
        g
        for name in ("住房公积金提取", "户口迁移(迁入)", "居民身份证换领补领")
        if (g := get_guide(name)) is not None and any(s.extra_materials for s in g.situations)
    )
    decision = decide(Turn(text=f"{guide.name}要带哪些材料", intent="ask_materials"))
    assert decision.kind is Kind.ask_situation
    reply = render(decision)
    titles = [button["title"] for button in reply.buttons]
    assert guide.situations[0].name in titles and "1. " in reply.text


@pytest.mark.parametrize(
    ("text", "intent", "guide", "says"),
    [
        ("低保一个月能领好多钱", "ask_fee", "最低生活保障申请", "800元"),
        ("低保标准是好多", None, "最低生活保障申请", "500元"),
        ("我奶奶86了高龄补贴一个月发好多钱", "ask_fee", "高龄补贴申领", "50元"),
    ],
)
def test_how_much_a_benefit_pays_is_answered_with_the_amount_not_the_fee(
    text: str, intent: str | None, guide: str, says: str
) -> None:
    decision = decide(Turn(text=text, intent=intent))
    assert decision.guide is not None and decision.guide.name == guide
    assert decision.aspect == "benefits"
    reply = render(decision).text
    assert says in reply and "收费标准" not in reply


def test_a_fee_question_about_a_benefit_still_gets_the_fee() -> None:
    decision = decide(Turn(text="申请低保要不要交钱", intent="ask_fee"))
    assert decision.aspect == "fees"


def test_where_to_apply_follows_the_guides_own_rule_before_the_halls() -> None:
    decision = decide(Turn(text="低保在哪点办", intent="ask_location"))
    reply = render(decision).text
    rule = reply.index("乡镇人民政府(街道办事处)社会救助窗口")
    assert rule < reply.index("可以到这些地方办理")


def test_a_question_a_faq_answers_gets_that_faq() -> None:
    decision = decide(Turn(text="高龄补贴户口不在遵义能办不", intent="ask_eligibility"))
    assert decision.guide is not None and decision.guide.name == "高龄补贴申领"
    assert decision.faq is not None and "户口不在遵义" in decision.faq.q
    assert "不能" in render(decision).text


@pytest.mark.parametrize(
    ("text", "remembered"),
    [
        ("狗狗办证在哪里办", "残疾人证办理"),  # nothing of ours: say so, not 残疾人证's halls
        ("养犬登记要啥子", "残疾人证办理"),
        ("港澳通行证续签", "普通护照签发"),
    ],
)
def test_a_question_naming_a_thing_of_its_own_is_not_answered_for_the_earlier_guide(
    text: str, remembered: str
) -> None:
    decision = decide(Turn(text=text, intent="ask_materials", confidence=0.9, remembered_service=remembered))
    assert decision.evidence != "remembered" and (decision.guide is None or decision.guide.name != remembered)


@pytest.mark.parametrize(
    ("text", "remembered"),
    [
        ("网上能办不", "住房公积金提取"),
        ("要本人去不", "居民身份证换领补领"),
        ("手机上咋个弄", "城乡居民基本医疗保险参保缴费"),
    ],
)
def test_asking_how_or_who_stays_a_follow_up(text: str, remembered: str) -> None:
    decision = decide(Turn(text=text, intent="ask_process", confidence=0.9, remembered_service=remembered))
    assert decision.evidence == "remembered"


def test_asking_whether_free_agency_exists_quotes_the_plan_and_offers_to_ask_for_it() -> None:
    decision = decide(Turn(text="老年人腿脚不方便，政务中心有没有免费帮忙代办的"))
    assert decision.kind is Kind.policy
    reply = render(decision)
    assert "39号" in reply.text and "代办" in reply.text
    assert {"title": "申请免费代办", "payload": "/request_agency"} in reply.buttons


def test_a_document_asked_about_for_a_service_named_in_full_stays_with_that_service() -> None:
    assert guide_of("隨遷子女入學登記需要居住證嗎？") == "义务教育入学登记"


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("人死了要销户口 带啥子", "身后事"),
        ("我屋头老者过世了 死亡证明在哪开", "身后事"),
        ("户口要咋个销", "户口注销"),
    ],
)
def test_what_happens_after_a_death_is_not_answered_with_an_unrelated_guide(
    text: str, procedure: str
) -> None:
    decision = decide(Turn(text=text))
    assert decision.kind is Kind.not_sure and decision.uncovered is not None
    assert decision.uncovered.startswith(procedure)
    assert "12345" in render(decision).text


def test_a_death_that_a_guide_does_cover_is_answered_from_it() -> None:
    assert guide_of("我妈去世了她的公积金能取出来不") == "住房公积金提取"
    assert guide_of("我爸去世了，老房子要转到我名下该怎么弄", intent="ask_process") == "不动产登记(转移登记)"


def test_a_document_named_as_what_to_bring_leaves_the_question_with_the_procedure() -> None:
    assert guide_of("娃儿上户口要带出声证明不") == "出生登记(新生儿入户)"


def test_an_age_below_a_situations_ages_is_not_that_situation() -> None:
    decision = decide(Turn(text="屋头老者82岁了 高龄补贴咋个领"))
    assert decision.guide is not None and decision.guide.name == "高龄补贴申领"
    assert decision.situation is None or "90" not in decision.situation.name


def test_replacing_a_document_is_answered_for_the_guides_replacement_case() -> None:
    decision = decide(Turn(text="老年证搞掉了 咋个补"))
    assert decision.situation is not None and "丢失" in decision.situation.name
