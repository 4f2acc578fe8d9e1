"""Retrieval first: chat and yes/no labels give way to words that carry a question; a complaint
that is only an annoyed question is answered; forms that ask for numbers need words that ask
for them (no questionnaire and no ticket from a misread intent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.nlu.intent_evidence import IntentEvidence, service_terms

TERMS = frozenset({"低保", "高龄补贴", "公积金", "身份证"})


@pytest.fixture
def evidence() -> IntentEvidence:
    return IntentEvidence(TERMS)


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("greet", "喂你好我想问下我奶奶今年85了有没有啥子补贴可以领"),
        ("affirm", "嗯嗯对的就是那个屋头老人满了八十岁的那个钱咋个领"),
        ("greet", "你好 低保"),
        ("thank", "谢谢 公积金呢"),
        ("complaint", "公司年报忘记报了现在被列入异常名录了好麻烦哦咋个补报"),
        ("complaint", "烦死了，低保申请交上去两个月了，正常审批一般要多长时间"),
        ("complaint", "办事要跑几趟"),
        ("complaint", "补办太慢了，烦得很，现在去银行网点办是不是能当场拿卡"),
        ("feedback", "社保卡补办太慢了，烦得很，现在去银行网点办是不是能当场拿卡"),
        ("complaint", "公司一直没有业务也没欠钱，想把它关掉，有没有简单点的办法"),
        ("check_status", "我屋头要装修房子 公积金取得出来不"),
        ("check_status", "驾驶证有效期满换证需要体检吗"),
        ("cancel_appointment", "单位把我辞退了，我该去办啥子"),
        ("book_appointment", "护照在哪里办"),
        ("request_agency", "残疾人证要带哪些材料"),
        ("request_agency", "屋头老汉儿腿脚残了想办个残疾证还有哪样补贴可以领不晓得咋个弄"),
        ("request_agency", "老年人腿脚不方便，政务中心有没有免费帮忙代办的"),
        ("request_agency", "代办收不收钱"),
        ("affirm", "要跑几趟"),
        ("affirm", "网上能办不"),
        ("thank", "谢谢 在哪里办"),
        ("request_agency", "个人所得税年度汇算可以委托单位代办吗"),
        ("request_human", "嗯 就是说我在单位干了三年 上个月合同到期了单位不跟我续签了 现在每个月能领点钱不"),
    ],
)
def test_words_with_a_question_overrule_the_label(evidence: IntentEvidence, intent: str, text: str) -> None:
    assert evidence.overrules(intent, text)


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("greet", "你好"),
        ("greet", "喂，在不在"),
        ("thank", "好的谢谢你啊辛苦了"),
        ("affirm", "要得"),
        ("deny", "不是这个"),
        ("goodbye", "拜拜"),
        ("complaint", "我要投诉"),
        ("complaint", "我想举报一个窗口工作人员吃拿卡要"),
        ("complaint", "工作人员态度冷冰冰的"),
        ("complaint", "说好的最多跑一次，我都跑了四次了"),
        ("request_human", "转人工"),
        ("request_human", "喂 有人没得"),
        ("request_human", "能不能直接打电话给我我不会打字"),
        ("request_human", "我说的你听不懂嘛我要找个人跟我讲"),
        ("request_human", "机器人听不懂 转人工嘛"),
        ("request_human", "叫你们工作人员来跟我说"),
        ("check_status", "上礼拜申请的高龄补贴咋个还没消息"),
        ("check_status", "ZW202611030012"),
        ("book_appointment", "帮我约明天上午"),
        ("cancel_appointment", "后天的号不要了"),
        ("request_agency", "屋头老人走不动 能不能帮我代办"),
        ("request_agency", "我腿脚不方便 哪个帮我去办"),
        ("request_agency", "村里有没有代办员 我想申请代办高龄补贴"),
        ("ask_materials", "随便什么问题"),
        ("feedback", "挺好的"),
        ("feedback", "你们的服务我很满意，给个五星好评，窗口的同志也很耐心"),
    ],
)
def test_the_label_stands_when_the_words_are_just_that(
    evidence: IntentEvidence, intent: str, text: str
) -> None:
    assert not evidence.overrules(intent, text)


def test_service_terms_come_from_the_index_dictionary(tmp_path: Path) -> None:
    path = tmp_path / "dictionary.json"
    dictionary = {"guide_links": {"低保": ["x"], "证": ["y"]}, "policy_topics": ["代办"]}
    path.write_text(json.dumps(dictionary, ensure_ascii=False), "utf-8")
    assert service_terms(path) == frozenset({"低保", "代办"})
    assert IntentEvidence(service_terms(path)).overrules("greet", "村里有没有人帮忙代办")
    assert service_terms(tmp_path / "missing.json") == frozenset()


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("inform", "查进度 ZW202611030012 身份证后六位12123X"),
        ("nlu_fallback", "我上个月交的申请 办得怎么样了"),
        ("complaint", "TS202611290035 这个投诉处理得咋样了"),
        ("inform", "zw 202611030012"),
        ("request_agency", "DB202611300001 代办到哪一步了"),
        ("ask_process", "我的低保申请到哪一步了"),
    ],
)
def test_a_tracking_number_or_an_applications_progress_is_a_status_query(
    evidence: IntentEvidence, intent: str, text: str
) -> None:
    assert evidence.promotes(intent, text) == "check_status"


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("complaint", "我要投诉 ZW202611030012 一直没人管 查一下都查不到"),
        ("ask_materials", "查一下低保申请要哪些材料"),
        ("ask_eligibility", "申请低保的条件怎么样才符合"),
        ("request_human", "转人工 查 ZW202611030012"),
        ("ask_process", "低保怎么申请"),
    ],
)
def test_questions_about_a_service_and_complaints_are_not_status_queries(
    evidence: IntentEvidence, intent: str, text: str
) -> None:
    assert evidence.promotes(intent, text) is None
