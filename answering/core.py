"""Decide what one turn should be answered with: retrieval first, the intent as a hint.

Order of evidence: a service the words name (entity, name, alias, synonym, corrected typo);
then, for questions about how government services work (跑几次、容缺、代办…), the city's
plan; then the service the conversation is about, unless the new words point more strongly
at another; then what retrieval is sure of — a situation residents describe (被单位辞退)
counts as naming its guide. Off-topic questions that merely share words with a service are
refused, and when nothing is reliable the resident is told so or offered the closest guides."""

from __future__ import annotations

import re
from dataclasses import replace

from answering.coverage import replacement_situation, uncovered
from answering.decision import Decision, Kind
from answering.life_events import (
    asked_bundle,
    asked_step,
    asks_about_all,
    asks_for_events,
    asks_whole,
    event_aspect,
    event_of_options,
    member_step,
    needs_subject,
    pre_check,
    remembered_plan,
    shared_event,
)
from answering.turn import Turn
from core.settings import AnsweringSettings, get_settings
from indexer.api import asks_about_policy, get_guide, search, story_of
from indexer.bundle_plan import BundlePlan, PlannedStep
from indexer.schema import Faq, Guide, Situation
from indexer.search import QueryError, SearchFilters, SearchHit, SearchResult

_CONTENT = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
_CONTENT_RUN = re.compile(r"[\u3400-\u9fffA-Za-z0-9]{2,}")
# Two-character words that name no service of their own: every procedure has them.
_PROCEDURE_PAIRS = frozenset(
    {
        "办理",
        "申请",
        "申领",
        "登记",
        "证明",
        "补办",
        "换领",
        "补领",
        "材料",
        "手续",
        "证件",
        "服务",
        "业务",
        "个人",
        "居民",
        "人员",
        "证书",
        "变更",
        "注销",
        "设立",
        "认定",
        "发放",
        "补贴",
        "缴费",
        "查询",
        "好多",
        "办证",
    }
)
# How questions are asked, as opposed to what happened (到期了、搞丢了、还房贷).
_ASKING = re.compile(
    r"要带|带哪些|带些|带啥|哪些|哪样|什么|啥子|啥|需要|怎么|咋个|如何|办理|申请|换领|补领|办|要|吗|呢|嘛|"
    r"一个月|每个?月|一年|每年"
)
# A document or procedure of its own (狗狗办证、养犬登记、港澳通行证): a question naming one is
# about it, not a follow-up to the service before.
_OWN_THING = re.compile(r"[\u3400-\u9fff]{1,8}?(证|照|卡|登记|许可|补贴|补助|保险|公积金)")
POLICY_ONLY = SearchFilters(kinds=frozenset({"policy"}))
# Sections render_aspect has its own wording for; any other section gets the overview.
RENDERED_ASPECTS = frozenset(
    {"materials", "conditions", "process", "fees", "benefits", "time_limit", "location"}
)
# 好多钱 asks what a benefit pays (低保一个月能领好多钱) unless the words are about paying.
_ASKS_FOR_AMOUNT = re.compile(r"好多|多少|标准|几百|几块|一个月|每个?月|一年|每年|领|发|补")
# A FAQ may answer these better than the section; a materials list, an amount, a fee or a time
# limit asked for is answered from its section.
_FAQ_ASPECTS = frozenset({"overview", "location", "process", "conditions"})
_HOW_MUCH = re.compile(r"好多|多少|几百|几块|几多")
_ASKS_FOR_FEE = re.compile(
    r"收费|收不收|收钱|要钱|交钱|交好多|交多少|缴|费用|工本费|花好多|花多少|贵不贵|免费|要不要钱"
)
# Words that ask for something a service guide answers, as opposed to chat that shares a
# service's words (开小吃店卖什么最赚钱, 护照照片怎么拍好看).
_ASKS_FOR_SERVICE = re.compile(
    r"办|申请|申领|领取|补领|换领|登记|证明|材料|资料|手续|流程|条件|资格|在哪|哪里|哪点|多久|好久|几天|"
    r"收费|费用|要钱|多少钱|好多钱|能不能|可不可以|可以不|得不得|行不行|要得不|符合|预约|窗口|大厅"
)


# Advice, opinions, repairs, weather, medicine, prices of goods and arithmetic: what no 办事指南
# answers, however many service words the question shares (开小吃店卖什么最赚钱, 哪个驾校好,
# 房贷利息怎么算, 微耕机打不燃火是啥子原因, 娃儿发烧吃啥子药).
_ASKS_FOR_ADVICE = re.compile(
    r"哪(个|种|家|款|样)[^，,。？?]{0,6}好(?!久|多|几|些)|牌子|品牌|推荐|划算|赚钱|好吃|好看|好听|好玩|热闹|"
    r"怎么算|咋个算|怎么计算|计算|利率|利息|税率|攻略|技巧|诀窍|容易过|行情|股票|理财|彩票|"
    r"起名|取名|加盟|副业|偏方|能贷|贷多少|贷好多|涨多少|涨了多少|涨好多|请客|酒席|办酒|摆酒|彩礼|份子钱|"
    r"(咋个|怎么|哪里|哪点|找哪个)修|维修(?!资金|基金)|修理|打不燃|打不着火|故障|"
    r"天气|下雨|下雪|气温|带伞|吃(啥子|什么|哪样|啥)药|退烧|"
    r"房价|中介费|收几个点|一(箱|斤|盒|桶|瓶|袋|件|挂)[^，,。？?]{0,4}(多少|好多|几)钱|一平(米|方)?[^，,。？?]{0,2}(多少|好多|几)"
)
# Whether it can be done online or how many trips it takes: the process section says both.
_ONLINE_OR_TRIPS = re.compile(
    r"(能不能|可不可以|可以|能)?(在)?(网上|手机上|线上|APP上?|app上?|网办|不见面)|(要)?跑几(次|趟|回)|要跑"
)
# Words of a procedure: with them, advice words are part of a service question after all.
_ASKS_FOR_PROCEDURE = re.compile(
    r"办理|申请|申领|补领|换领|补办|登记|材料|手续|流程|条件(?!好|差|咋样|怎么样)|窗口|大厅|证明|预约|执照|许可证"
)


def decide(
    turn: Turn, settings: AnsweringSettings | None = None, result: SearchResult | None = None
) -> Decision:
    """``result``: a search already run for these words (the console runs it beside the NLU)."""
    cfg = settings or get_settings().answering
    if result is None and not turn.is_payload:
        result = _search(turn.text)
    aspect = turn.asked_aspect or (
        result.asked_section if result is not None and result.asked_section in RENDERED_ASPECTS else None
    )

    if _off_topic(turn, result, cfg):
        return Decision(Kind.out_of_scope, "nlu:out_of_scope", result=result)

    if asks_for_events(turn, result):
        return Decision(Kind.bundle_list, "bundle_list", result=result)
    named = _named_guides(turn, result)
    checked = pre_check(turn, named)
    if checked is not None:
        target, verdict = checked
        if isinstance(target, Guide):
            return Decision(Kind.precheck, "precheck", guide=target, precheck=verdict, result=result)
        return Decision(Kind.precheck, "precheck", plan=target, precheck=verdict, result=result)

    if needs_subject(turn, named):
        return Decision(Kind.precheck, "precheck_needs_subject", result=result)
    plan = asked_bundle(turn, result, named)
    if plan is not None:
        return _event(plan, event_aspect(turn, aspect), turn, result, "bundle")
    talked_about = remembered_plan(turn)
    step = asked_step(turn, talked_about) if talked_about is not None and not named else None
    if talked_about is not None and step is not None:
        decision = _answer(step.guide, aspect, _as_step(turn, step), result, cfg, "bundle_step")
        return replace(decision, plan=talked_about)
    if talked_about is not None and not named and asks_about_all(turn.text):
        return _event(talked_about, aspect or "overview", turn, result, "bundle_followup")

    if named:
        guide = _best_ranked(named, result)
        asked_instead = uncovered(turn.text, guide)
        if asked_instead is not None:
            return Decision(Kind.not_sure, "not_covered", guide=guide, uncovered=asked_instead, result=result)
        in_event = member_step(talked_about, guide) if talked_about is not None else None
        return _answer(guide, aspect, _as_step(turn, in_event), result, cfg, "named")

    remembered = get_guide(turn.remembered_service) if turn.remembered_service else None
    bare = replace(turn, text=_ONLINE_OR_TRIPS.sub(" ", turn.text))
    if _ONLINE_OR_TRIPS.search(turn.text) and not _tells(bare, cfg):
        # 能不能网上办、要跑几次 right after a service or an event: about that one, not the plan
        if remembered is not None:
            return _answer(remembered, "process", turn, result, cfg, "remembered")
        if talked_about is not None:
            return _event(talked_about, "overview", turn, result, "bundle_followup")

    if result is not None and asks_about_policy(turn.text):
        policy = _policy_hit(turn.text)
        if policy is not None:
            return Decision(Kind.policy, "policy_topic", policy=policy, result=result)

    if (
        remembered is not None
        and not _points_elsewhere(result, remembered, turn, cfg)
        and not _about_something_else(turn, remembered, result)
    ):
        return _answer(remembered, aspect, turn, result, cfg, "remembered")
    if talked_about is not None and not _tells(turn, cfg) and (aspect is not None or asks_whole(turn.text)):
        return _event(talked_about, aspect or "overview", turn, result, "bundle_followup")

    if result is None or not result.hits:
        return Decision(Kind.not_sure, "no_hits", result=result)
    guide_hits = [hit for hit in result.hits if hit.kind == "guide"]
    top = result.hits[0]
    if result.confident and top.kind == "policy":
        return Decision(Kind.policy, "retrieval", policy=top, result=result)
    if result.confident and guide_hits:
        if _ambiguous(guide_hits, cfg):
            return _clarify(guide_hits, aspect, result, "ambiguous", turn)
        found = get_guide(guide_hits[0].doc_id)
        asked_instead = uncovered(turn.text, found) if found is not None else None
        if found is not None and asked_instead is not None:
            # 房子抵押登记 beside 不动产转移登记 says which guide it is not; 户口迁出 beside 社保卡 does not
            near = found if _words_name(turn, found) else None
            return Decision(Kind.not_sure, "not_covered", guide=near, uncovered=asked_instead, result=result)
        if found is not None:
            return _answer(found, aspect, turn, result, cfg, "retrieval")
    if guide_hits and (guide_hits[0].dense_score or 0.0) >= cfg.clarify_min_dense_score:
        return _clarify(guide_hits, aspect, result, "weak", turn)
    return Decision(Kind.not_sure, result.reason or "not_confident", result=result)


def _uncovered_by_all(turn: Turn, hits: list[SearchHit]) -> str | None:
    """What the words ask to do when none of the close guides covers it."""
    guides = [guide for hit in hits if (guide := get_guide(hit.doc_id)) is not None]
    missing = [uncovered(turn.text, guide) for guide in guides]
    return missing[0] if guides and all(missing) else None


def _as_step(turn: Turn, step: PlannedStep | None) -> Turn:
    """A step of the event talked about is answered for the situation the event puts it in
    (医保参保 in 新生儿出生 is a newborn's), unless the resident chose one."""
    if step is None or step.step.situation is None or turn.situation:
        return turn
    return replace(turn, situation=step.step.situation)


def _search(text: str) -> SearchResult | None:
    try:
        return search(text, k=5) if text.strip() else None
    except QueryError:
        return None


def _hit_within(guide: Guide, text: str) -> SearchHit | None:
    """The question searched within one guide: its closest situation and FAQ."""
    try:
        result = search(text, k=1, filters=SearchFilters(doc_ids=frozenset({guide.id})))
    except QueryError:
        return None
    return result.hits[0] if result.hits else None


def _policy_hit(text: str) -> SearchHit | None:
    try:
        result = search(text, k=1, filters=POLICY_ONLY)
    except QueryError:
        return None
    return result.hits[0] if result.hits and result.confident else None


def _named_guides(turn: Turn, result: SearchResult | None) -> list[Guide]:
    """Guides the NLU found as entities (or a button carried), then those the words name."""
    ids = [*turn.services, *(result.linked_guides if result is not None else ())]
    guides: list[Guide] = []
    for value in ids:
        guide = get_guide(value)
        if guide is not None and guide not in guides:
            guides.append(guide)
    return guides


def _best_ranked(guides: list[Guide], result: SearchResult | None) -> Guide:
    """Of several named guides, the one retrieval ranks highest (身份证丢了补办 → 换领补领), after
    leaving out those whose document is only brought to another (上户口要带出生证明不: the
    出生医学证明 is a material of 出生登记, which is asked about)."""
    guides = _not_inputs(guides)
    if result is None or len(guides) == 1:
        return guides[0]
    rank = {hit.doc_id: i for i, hit in enumerate(result.hits)}
    return min(guides, key=lambda guide: rank.get(guide.id, len(rank)))


def _not_inputs(guides: list[Guide]) -> list[Guide]:
    kept = [guide for guide in guides if not any(_brought_to(guide, other) for other in guides)]
    return kept or guides


def _brought_to(guide: Guide, other: Guide) -> bool:
    """Whether what ``guide`` issues is a material of ``other``."""
    document = _issues(guide)
    return other is not guide and document is not None and any(document in m.name for m in other.materials)


# How a guide's name says it issues a document: 出生医学证明办理 issues 出生医学证明.
_ISSUING = re.compile(r"(办理|申领|签发|核发|开具|换领补领|换证)$")


def _issues(guide: Guide) -> str | None:
    """The document a guide issues, when its name says so (居住证申领 → 居住证)."""
    document = _ISSUING.sub("", guide.name)
    return document if document != guide.name and len(document) >= 2 else None


def _off_topic(turn: Turn, result: SearchResult | None, cfg: AnsweringSettings) -> bool:
    """Not a government-service question: it asks for advice, opinions, prices or arithmetic
    and names no procedure; or the NLU reads it as off-topic, it asks for nothing a guide
    answers, and it doesn't tell a situation a guide covers (钱包遭偷了…那张证件也没得了)."""
    if turn.is_payload:
        return False
    if _ASKS_FOR_ADVICE.search(turn.text) and not _ASKS_FOR_PROCEDURE.search(turn.text):
        return True
    if turn.intent != "out_of_scope" or turn.confidence < cfg.out_of_scope_min_confidence:
        return False
    asks_aspect = result is not None and result.asked_section is not None
    told_situation = result is not None and any(_recognised(hit, cfg) for hit in result.hits[:1])
    return not asks_aspect and not told_situation and not _ASKS_FOR_SERVICE.search(turn.text)


def _points_elsewhere(
    result: SearchResult | None, remembered: Guide, turn: Turn, cfg: AnsweringSettings
) -> bool:
    """Whether the new words describe another guide more strongly than a follow-up would. Words
    that only ask (一个月发好多钱、在哪点办) tell no story of their own: they are a follow-up;
    words that share a name's own part with the guide retrieval puts first (结婚要带啥子 after 失业金)
    ask about that guide."""
    if result is None or not result.confident or not result.hits:
        return False
    top = result.hits[0]
    if top.kind != "guide" or top.doc_id == remembered.id:
        return False
    found = get_guide(top.doc_id)
    if found is not None and _words_name(turn, found):
        return True
    if not _tells(turn, cfg):
        return False
    if top.situation_score is not None and top.situation_score >= cfg.situation_min_score:
        return True
    in_top = any(hit.doc_id == remembered.id for hit in result.hits[:3])
    return not in_top and (top.dense_score or 0.0) >= cfg.switch_min_dense_score


def _about_something_else(turn: Turn, remembered: Guide, result: SearchResult | None) -> bool:
    """The words name a thing of their own that is nowhere in the remembered guide — not in its
    name, aliases or situations — and retrieval does not find that guide either: 狗狗办证在哪里办
    after 残疾人证 is not a follow-up, even when nothing else is found for it (then say so)."""
    if turn.is_payload or result is None:
        return False
    thing = _OWN_THING.search(story_of(turn.text))
    if thing is None:
        return False  # 在哪点办嘛、网上能办不、要本人去不: about the same service, a follow-up
    asked = {pair for pair in _pairs(thing.group(0))} - _PROCEDURE_PAIRS
    words = [remembered.name, *remembered.aliases]
    words += [said for situation in remembered.situations for said in (situation.name, *situation.says)]
    if asked & {pair for word in words for pair in _pairs(word)}:
        return False
    return all(hit.doc_id != remembered.id for hit in result.hits[:3])


def _asked_pairs(turn: Turn) -> set[str]:
    story = _ASKING.sub(" ", story_of(turn.text))
    return {pair for run in _CONTENT_RUN.findall(story) for pair in _pairs(run)} - _PROCEDURE_PAIRS


def _words_name(turn: Turn, guide: Guide) -> bool:
    """The asked-about words share two characters in a row with the guide's name or an alias,
    beyond words every procedure has (办理、申请、登记、证明…)."""
    named = {pair for name in (guide.name, *guide.aliases) for pair in _pairs(name)}
    return bool(_asked_pairs(turn) & named)


def _pairs(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _ambiguous(guide_hits: list[SearchHit], cfg: AnsweringSettings) -> bool:
    if len(guide_hits) < 2:
        return False
    first, second = guide_hits[0], guide_hits[1]
    if _recognised(first, cfg) and not _recognised(second, cfg):
        return False
    return second.score >= cfg.ambiguity_ratio * first.score


def _recognised(hit: SearchHit, cfg: AnsweringSettings) -> bool:
    return hit.situation_score is not None and hit.situation_score >= cfg.situation_min_score


def _tells(turn: Turn, cfg: AnsweringSettings) -> bool:
    """The words tell a story beyond naming the service and the aspect (低保要带哪些材料 does
    not; 我要还房贷公积金咋个取出来 does), so a close situation is the resident's own."""
    story = _ASKING.sub(" ", story_of(turn.text))
    return len(_CONTENT.findall(story)) >= cfg.story_min_chars


def _clarify(
    guide_hits: list[SearchHit], aspect: str | None, result: SearchResult, why: str, turn: Turn
) -> Decision:
    asked_instead = _uncovered_by_all(turn, guide_hits[:3])
    if asked_instead is not None:  # 户口咋个销: none of the close guides speaks of it
        return Decision(Kind.not_sure, "not_covered", uncovered=asked_instead, result=result)
    options = tuple(guide for hit in guide_hits[:3] if (guide := get_guide(hit.doc_id)) is not None)
    plan = event_of_options(turn, options)
    if plan is not None:
        return _event(plan, event_aspect(turn, aspect), turn, result, "bundle_of_options")
    event = shared_event(options)
    return Decision(
        Kind.clarify, why, aspect=aspect or "overview", options=options, plan=event, result=result
    )


def _answer(
    guide: Guide,
    aspect: str | None,
    turn: Turn,
    result: SearchResult | None,
    cfg: AnsweringSettings,
    evidence: str,
) -> Decision:
    """The guide's answer, for the situation the resident tapped, described, or chose before."""
    situation, recognised = None, False
    if turn.situation:
        situation = guide.situation(turn.situation)
    hit = next((h for h in result.hits if h.doc_id == guide.id), None) if result is not None else None
    if hit is None and result is not None and (guide.situations or guide.faqs) and _tells(turn, cfg):
        hit = _hit_within(guide, turn.text)  # a follow-up (她走不得路了我帮她办要得不) about this guide
    if (
        situation is None
        and hit is not None
        and hit.situation
        and _recognised(hit, cfg)
        and _tells(turn, cfg)
    ):
        situation, recognised = guide.situation(hit.situation), True
    if recognised and situation is not None and _contradicts(situation, turn.text):
        situation, recognised = None, False  # 82岁 is no case of 年满90周岁
    replacing = None if turn.situation else replacement_situation(guide, turn.text)
    if replacing is not None:  # 老年证搞掉了: its 遗失补办 case, whatever the closest description
        situation, recognised = replacing, True
    remembered = False
    if situation is None and turn.remembered_situation and turn.remembered_service in (guide.id, guide.name):
        situation = guide.situation(turn.remembered_situation)
        remembered = situation is not None
    chosen = _aspect_for(guide, aspect, turn.text)
    faq = _faq_answering(guide, hit, turn, cfg) if situation is None and chosen in _FAQ_ASPECTS else None
    if faq is not None:
        return Decision(Kind.answer, evidence, guide=guide, aspect="faq", faq=faq, result=result)
    asks_which = chosen in ("materials", "conditions") and _situations_differ(guide, chosen)
    if situation is None and asks_which and not turn.full:
        return Decision(Kind.ask_situation, evidence, guide=guide, aspect=chosen, result=result)
    return Decision(
        Kind.answer,
        evidence,
        guide=guide,
        aspect=chosen,
        situation=situation,
        situation_recognised=recognised,
        situation_said_before=remembered,
        full=turn.full,
        result=result,
    )


def _event(plan: BundlePlan, aspect: str, turn: Turn, result: SearchResult | None, evidence: str) -> Decision:
    return Decision(Kind.bundle, evidence, aspect=aspect, plan=plan, full=turn.full, result=result)


_AGE_SAID = re.compile(r"(\d{1,3})\s*周?岁")


def _contradicts(situation: Situation, text: str) -> bool:
    """An age said below every age the situation's name starts from (82岁 vs 年满90周岁、100周岁)."""
    said = [int(age) for age in _AGE_SAID.findall(text)]
    named = [int(age) for age in _AGE_SAID.findall(situation.name)]
    return bool(said and named) and max(said) < min(named)


def _faq_answering(guide: Guide, hit: SearchHit | None, turn: Turn, cfg: AnsweringSettings) -> Faq | None:
    """The guide's FAQ the question is closest to, when it is very close, closer than any of the
    guide's situations, and the words ask more than a section does (高龄补贴户口不在遵义能办不)."""
    if hit is None or hit.faq is None or (hit.faq_score or 0.0) < cfg.faq_min_dense_score:
        return None
    if (hit.situation_score or 0.0) > (hit.faq_score or 0.0) or not _tells(turn, cfg):
        return None
    return guide.faqs[hit.faq - 1] if hit.faq <= len(guide.faqs) else None


def _aspect_for(guide: Guide, aspect: str | None, text: str) -> str:
    """The section to answer from: a benefit's amount rather than its (nil) fee when the words
    ask what is received; the fee for a guide that pays nothing."""
    if guide.benefits is not None and aspect in (None, "fees", "benefits"):
        asks_amount = _ASKS_FOR_AMOUNT.search(text) and (aspect is not None or _HOW_MUCH.search(text))
        if asks_amount and not _ASKS_FOR_FEE.search(text):
            return "benefits"
        if aspect == "benefits" and _ASKS_FOR_FEE.search(text):
            return "fees"
    if aspect == "benefits" and guide.benefits is None:
        return "fees"
    return aspect or "overview"


def _situations_differ(guide: Guide, aspect: str) -> bool:
    """Worth asking 您是哪种情形 only when the answer depends on it."""
    if len(guide.situations) < 2:
        return False
    if aspect == "materials":
        return any(situation.extra_materials for situation in guide.situations)
    return any(situation.extra_conditions for situation in guide.situations)
