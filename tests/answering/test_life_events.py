"""Life events (一件事) and 预审 through the answering core on the real index, without Rasa."""

from __future__ import annotations

import pytest

from answering.core import decide
from answering.decision import Decision, Kind
from answering.life_events import shared_event
from answering.render import render
from answering.turn import Turn
from indexer.api import get_guide

pytestmark = pytest.mark.slow

NEWBORN = "xinshenger_chusheng"


def event_of(decision: Decision) -> str | None:
    return decision.plan.bundle.name if decision.plan is not None else None


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("我家娃娃刚生，要办些啥子", "新生儿出生一件事"),
        ("屋头刚添了个小孩子 要跑哪些部门办证", "新生儿出生一件事"),
        ("想在学校边上开个面馆 前前后后要办哪些证照", "开办餐饮店一件事"),
        ("注册公司要办哪些手续", "企业开办一件事"),
        ("下个月结婚 结婚前后要办的手续有哪些", "结婚成家一件事"),
    ],
)
def test_a_question_about_a_whole_event_is_answered_with_its_bundle(text: str, event: str) -> None:
    decision = decide(Turn(text=text, intent="ask_process", confidence=0.9))
    assert decision.kind is Kind.bundle and event_of(decision) == event


@pytest.mark.parametrize(
    "text",
    [
        "想开一家小饭馆，从营业执照到食品许可，总共要办哪些手续，能一次办下来吗",
        "家里孩子被诊断为智力残疾，从办证到领补贴，一整套要办哪些事，能不能一次办完",
    ],
)
def test_a_whole_event_asked_about_with_plural_words_is_that_event_not_the_list_of_events(text: str) -> None:
    decision = decide(Turn(text=text))
    assert decision.kind is Kind.bundle and decision.plan is not None


@pytest.mark.parametrize(
    "text",
    ["新开一家公司，从营业执照、刻章到领发票，一整套流程要几天", "新开的公司从领执照到领发票都有哪些流程"],
)
def test_a_named_step_asked_about_with_every_step_of_a_close_event_gets_that_event(text: str) -> None:
    decision = decide(Turn(text=text))
    assert decision.kind is Kind.bundle and event_of(decision) == "企业开办一件事"


def test_trips_for_one_service_or_a_first_time_stay_with_that_service() -> None:
    assert decide(Turn(text="第一次办社保卡需要带什么，小孩子可以办吗")).kind is not Kind.bundle
    decision = decide(Turn(text="我要还房贷，公积金咋个取出来嘛，要跑几趟"))
    assert decision.guide is not None and decision.guide.name == "住房公积金提取"


def test_which_services_can_be_done_online_is_no_question_about_events() -> None:
    decision = decide(Turn(text="哪些事可以在网上办，用手机上哪个平台办"))
    assert decision.kind is Kind.policy


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("开饭馆要办食品经营许可证吗", "食品经营许可证核发"),
        ("注册公司要带哪些材料", "有限责任公司设立登记"),
        ("结婚要带啥子", "结婚登记"),
        ("残疾证咋个办", "残疾人证办理"),
    ],
)
def test_a_question_about_one_member_service_stays_with_that_service(text: str, service: str) -> None:
    decision = decide(Turn(text=text))
    assert decision.kind in (Kind.answer, Kind.ask_situation)
    assert decision.guide is not None and decision.guide.name == service


def test_the_bundle_reply_lists_the_steps_in_order_with_one_merged_checklist() -> None:
    decision = decide(Turn(text="生娃娃了，要办些啥子"))
    reply = render(decision)
    text = reply.text
    assert text.index("出生医学证明") < text.index("上户口") < text.index("医保")
    assert "共5步" in text and "可以同时办" in text
    assert "示例数据，以贵州政务服务网公布为准" in text and "来源：" in text
    card = reply.payload
    assert card is not None and card["type"] == "bundle_card"
    names = [m["name"] for m in card["materials"]]
    assert names.count("居民户口簿") == 1 and names.count("居民身份证") == 1
    issued = next(m for m in card["materials"] if m["name"] == "出生医学证明")
    assert issued["obtained_from"] == 2 and issued["to_bring"] is False
    titles = [button["title"] for button in reply.buttons]
    assert titles[:3] == ["第1步 生育登记", "第2步 办出生医学证明", "第3步 上户口"]
    assert "申请免费代办" in titles


def test_a_step_follow_up_is_answered_from_that_steps_guide() -> None:
    decision = decide(Turn(text="第三步要带啥", intent="ask_materials", remembered_bundle=NEWBORN))
    assert decision.guide is not None and decision.guide.name == "出生登记(新生儿入户)"
    assert decision.aspect == "materials" and event_of(decision) == "新生儿出生一件事"


def test_an_aspect_follow_up_about_the_event_is_answered_for_the_whole_event() -> None:
    materials = decide(Turn(text="那要带哪些材料", intent="ask_materials", remembered_bundle=NEWBORN))
    assert materials.kind is Kind.bundle and materials.aspect == "materials"
    assert "合并材料清单" in render(materials).text
    timing = decide(Turn(text="总共要多久", intent="ask_time_limit", remembered_bundle=NEWBORN))
    said = render(timing).text
    assert timing.kind is Kind.bundle and ("工作日" in said or "当场办结" in said)


def test_a_member_named_in_a_follow_up_is_answered_for_that_service() -> None:
    decision = decide(Turn(text="医保那个在哪办", intent="ask_location", remembered_bundle=NEWBORN))
    assert decision.guide is not None and decision.guide.name == "城乡居民基本医疗保险参保缴费"
    assert decision.aspect == "location"


def test_saying_what_one_has_is_pre_checked_against_the_service_talked_about() -> None:
    decision = decide(Turn(text="我有身份证和户口本，结婚证找不到了", remembered_service="结婚登记"))
    assert decision.kind is Kind.precheck and decision.guide is not None
    assert decision.guide.name == "结婚登记"
    text = render(decision).text
    assert "材料预审" in text and "不是审批结果" in text and "结婚证" in text


def test_saying_what_one_has_is_pre_checked_against_the_event_talked_about() -> None:
    decision = decide(Turn(text="身份证户口本都有了 还差啥子", remembered_bundle=NEWBORN))
    assert decision.kind is Kind.precheck and event_of(decision) == "新生儿出生一件事"
    reply = render(decision)
    assert reply.payload is not None and reply.payload["type"] == "precheck"
    assert "居民户口簿" in reply.payload["has"]


def test_asking_how_to_replace_a_lost_document_is_not_a_pre_check() -> None:
    decision = decide(Turn(text="身份证丢了咋个补办", remembered_service="结婚登记"))
    assert decision.kind is not Kind.precheck
    assert decision.guide is not None and decision.guide.name == "居民身份证换领补领"


def test_one_material_mentioned_without_asking_is_not_a_pre_check() -> None:
    decision = decide(Turn(text="户口本在我这里", remembered_service="结婚登记"))
    assert decision.kind is not Kind.precheck


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("买了房子要迁户口还要取公积金 这几样一起咋个办", "买房落户一件事"),
        ("我们下个月扯证 结了婚户口生育这些后面还要办哪些", "结婚成家一件事"),
    ],
)
def test_services_of_one_event_asked_together_or_after_one_another_get_the_event(
    text: str, event: str
) -> None:
    decision = decide(Turn(text=text))
    assert decision.kind is Kind.bundle and event_of(decision) == event


def test_close_steps_asked_in_order_get_the_event_instead_of_a_choice() -> None:
    text = "那个我和老公准备在汇川开个小炒店嘛营业执照和食品的那个证是先办哪个后办哪个要好久才能开张"
    decision = decide(Turn(text=text, intent="nlu_fallback", confidence=0.55))
    assert decision.kind is Kind.bundle and event_of(decision) == "开办餐饮店一件事"


def test_one_named_service_asked_in_general_terms_is_not_turned_into_an_event() -> None:
    decision = decide(Turn(text="低保手续咋个办"))
    assert decision.kind is not Kind.bundle
    assert decision.guide is not None and decision.guide.name == "最低生活保障申请"


@pytest.mark.parametrize("text", ["我有身份证 还差啥子", "我只有身份证 其他都没得"])
def test_a_short_statement_is_pre_checked_and_its_question_is_not_read_as_lacking(text: str) -> None:
    decision = decide(Turn(text=text, remembered_bundle="kaiban_canyindian"))
    assert decision.kind is Kind.precheck and event_of(decision) == "开办餐饮店一件事"
    assert decision.precheck is not None
    assert [item.name for item in decision.precheck.has] == ["居民身份证"]


def test_documents_said_without_any_service_talked_about_are_not_pre_checked_against_themselves() -> None:
    decision = decide(Turn(text="我有身份证和户口本，结婚证找不到了"))
    assert decision.kind is not Kind.precheck


def test_which_events_there_are_is_a_list_of_buttons() -> None:
    reply = render(decide(Turn(text="一件事一次办有哪些")))
    assert reply.payload is not None and reply.payload["type"] == "bundle_list"
    titles = [button["title"] for button in reply.buttons]
    assert "新生儿出生一件事" in titles and len(titles) == 7


@pytest.mark.parametrize(
    ("text", "aspect"),
    [("我们下个月要结婚了要办些啥", "overview"), ("生娃娃了要带哪些材料", "materials")],
)
def test_an_event_opens_with_its_steps_unless_materials_are_named(text: str, aspect: str) -> None:
    decision = decide(Turn(text=text, intent="ask_materials", confidence=0.9))
    assert decision.kind is Kind.bundle and decision.aspect == aspect


def test_the_whole_materials_list_when_asked_for_all_of_it() -> None:
    short = render(decide(Turn(text="要带哪些材料", intent="ask_materials", remembered_bundle=NEWBORN)))
    whole = decide(Turn(text="全部材料", intent="ask_materials", remembered_bundle=NEWBORN, full=True))
    assert whole.full and "另有" not in render(whole).text and "另有" in short.text


def test_total_time_after_a_step_is_the_whole_events() -> None:
    decision = decide(
        Turn(
            text="总共要多久",
            intent="ask_time_limit",
            remembered_bundle=NEWBORN,
            remembered_service="城乡居民基本医疗保险参保缴费",
        )
    )
    assert decision.kind is Kind.bundle and decision.aspect == "time_limit"


def test_off_topic_words_around_an_event_are_refused() -> None:
    for text in ("结婚请客要好多钱", "生娃娃哪家医院条件好"):
        assert decide(Turn(text=text)).kind is Kind.out_of_scope, text


def test_without_anything_to_check_against_the_resident_is_asked_which_matter() -> None:
    decision = decide(Turn(text="我有户口本和身份证 还差啥子"))
    assert decision.kind is Kind.precheck and decision.precheck is None
    assert "您要办哪个事项" in render(decision).text


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("身份证有 照片还没照", {"remembered_service": "结婚登记"}),
        ("證件就只有身份證", {"remembered_bundle": "kaiban_canyindian"}),
        ("我都有了", {"remembered_bundle": "jiehun_chengjia"}),
    ],
)
def test_terse_statements_are_pre_checked_against_what_is_talked_about(text: str, context: dict) -> None:
    decision = decide(Turn(text=text, **context))
    assert decision.kind is Kind.precheck and decision.precheck is not None


def test_how_much_these_cost_after_an_event_is_the_events_fees() -> None:
    decision = decide(Turn(text="办这些要花好多钱哦", intent="ask_fee", remembered_bundle=NEWBORN))
    assert decision.kind is Kind.bundle and decision.aspect == "fees"
    assert "400元" in render(decision).text


def test_close_services_of_one_event_are_offered_with_the_event() -> None:
    options = tuple(g for name in ("食品经营许可证核发", "个体工商户设立登记") if (g := get_guide(name)))
    event = shared_event(options)
    assert event is not None and event.bundle.name == "开办餐饮店一件事"
    reply = render(Decision(Kind.clarify, "ambiguous", options=options, plan=event))
    titles = [button["title"] for button in reply.buttons]
    assert titles[:3] == ["食品经营许可证核发", "个体工商户设立登记", "开办餐饮店一件事"]


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("我妈刚满60岁，坐公交想免费或者半价，要先办个什么证", "老年人优待证办理"),
        ("暑假想带孩子去泰国玩，我们俩都没出过国，要先办什么证件", "普通护照签发"),
        (
            "喂你好我准备在我们街上开个理发店嘛那个营业执照要去哪里办要交钱不要带些啥子东西去",
            "个体工商户设立登记",
        ),
    ],
)
def test_what_one_situation_needs_is_a_service_not_an_event(text: str, service: str) -> None:
    decision = decide(Turn(text=text))
    assert decision.kind is not Kind.bundle
    assert decision.guide is not None and decision.guide.name == service


def test_an_event_named_in_full_is_that_event_even_when_an_alias_names_a_service() -> None:
    decision = decide(Turn(text="企业开办一件事要多少天", intent="ask_time_limit"))
    assert decision.kind is Kind.bundle and event_of(decision) == "企业开办一件事"
    assert decision.aspect == "time_limit"


@pytest.mark.parametrize("text", ["我妈过世了要办哪些手续", "开个理发店要办些啥", "开个修车铺要办哪些手续"])
def test_an_event_we_have_no_bundle_for_is_not_answered_with_the_closest_one(text: str) -> None:
    assert decide(Turn(text=text)).kind is not Kind.bundle


@pytest.mark.parametrize(
    ("text", "context", "kind"),
    [
        ("能不能网上办", {"remembered_service": "结婚登记"}, Kind.answer),
        ("要跑几趟", {"remembered_bundle": NEWBORN}, Kind.bundle),
    ],
)
def test_online_or_trips_right_after_a_service_or_event_is_about_it(
    text: str, context: dict, kind: Kind
) -> None:
    decision = decide(Turn(text=text, **context))
    assert decision.kind is kind
    if kind is Kind.answer:
        assert decision.aspect == "process" and "网上办理：" in render(decision).text


def test_the_rest_had_but_one_thing_is_pre_checked_as_lacking_only_that() -> None:
    decision = decide(Turn(text="就差个照片 其他都齐了 能去办不", remembered_service="残疾人证办理"))
    assert decision.kind is Kind.precheck and decision.precheck is not None
    assert [item.name for item in decision.precheck.lacks] == ["近期2寸免冠白底彩色照片"]
    assert "照片" in " ".join(gap.item.name for gap in decision.precheck.missing)


def test_only_one_thing_brought_is_a_pre_check_of_the_service_talked_about() -> None:
    decision = decide(Turn(text="我只带了身份证", remembered_service="老年人优待证办理"))
    assert decision.kind is Kind.precheck and decision.guide is not None
    assert decision.guide.name == "老年人优待证办理"


def test_a_step_of_the_event_talked_about_is_answered_for_the_events_situation() -> None:
    decision = decide(Turn(text="医保那个要带啥", remembered_bundle=NEWBORN))
    assert decision.guide is not None and decision.guide.name == "城乡居民基本医疗保险参保缴费"
    assert decision.situation is not None and decision.situation.id == "xinshenger"


def test_what_was_ticked_on_a_card_is_pre_checked_against_that_card_whatever_came_since() -> None:
    text = "「新生儿出生一件事」我有：居民身份证、居民户口簿，还缺什么？"
    decision = decide(Turn(text=text, remembered_service="居民身份证换领补领"))
    assert decision.kind is Kind.precheck and event_of(decision) == "新生儿出生一件事"
    assert decision.precheck is not None
    assert {item.name for item in decision.precheck.has} == {"居民身份证", "居民户口簿"}


@pytest.mark.parametrize(
    ("text", "event"),
    [("开公司一件事咋个办", "企业开办一件事"), ("娃儿读小学 入学一件事要办啥子", "教育入学一件事")],
)
def test_an_event_asked_for_as_一件事_by_a_colloquial_name_is_that_event(text: str, event: str) -> None:
    decision = decide(Turn(text=text))
    assert decision.kind is Kind.bundle and event_of(decision) == event
