"""Life events (一件事) and 预审 in the answering core.

A question about a whole event (生娃娃了要办些啥子) is answered with its bundle; one that names a
member service (开饭馆要办食品经营许可证吗) stays with that service unless it asks what the whole
event takes. A follow-up leans on the event the conversation is about: 第二步要带啥 is the second
step's guide; 要带哪些材料 is the merged list. A resident telling what they have (我有身份证和户口本，
结婚证找不到了) gets a pre-check against the guide or event being talked about.
"""

from __future__ import annotations

import re
from dataclasses import replace

from answering.precheck import PreCheck, precheck
from answering.turn import Turn
from core.settings import get_settings
from indexer.api import bundle_plan, dictionary, get_bundle, get_guide, list_bundles, words_of
from indexer.bundle_plan import BundlePlan, BundlePlanError, PlannedStep
from indexer.bundle_schema import Bundle
from indexer.schema import Guide
from indexer.search import SearchHit, SearchResult
from indexer.text import normalize

# Words asking what a whole event takes rather than one service's part of it.
# Plural and ordering words only: 要办什么证、需要什么手续 ask what one service a situation needs.
_ASKS_WHOLE = re.compile(
    r"办(些|哪些|哪几)|哪些手续|手续有哪些|跑哪些|几趟|从头到尾|前前后后|(?<!第)一次(性)?办|一起办|都要办|还要办(哪|些)|"
    r"还有哪些|还有哪样|全套|整套|先办哪|后办哪|哪个先办|先后|顺序|这几样|一串|一连串|几个地方|哪些流程|一件事"
)
# Words asking for every step of something, beyond how many trips (几趟) one service takes.
_ASKS_EVERY_STEP = re.compile(
    r"一整套|整套|全套|一串|一连串|从头到尾|前前后后|哪些流程|流程有哪些|一次性办|一起办"
)
# What comes after a service (结了婚…后面还要办哪些): the events it opens.
_ASKS_NEXT = re.compile(r"还要办|后面还|以后还|之后还|接下来|然后还|还有哪些要办|还要跑")
_STEP = re.compile(r"第\s*([一二两三四五六七八九十]|\d{1,2})\s*(步|项|件|个)")
_NUMERALS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
# A statement of what the resident has or lacks …
_STATES = re.compile(
    r"我(只|就|已经)?有|只有|就有|我(只|就|已经)?带|我准备了|手(上|头)有|有了|有的|都有|都在|拿到了|都齐了|"
    r"就差|只差|还差个|找不到|没有|没得|莫得|丢了|不见了|"
    r"弄丢|搞丢|还没(照|办|带|拿|开|领)|(证|簿|本|照|片|合同|书|表|卡)(也)?有"
)
# … a question whether it is enough …
_ASKS_GAP = re.compile(
    r"还(缺|差|要)(啥|什么|哪|些|点)|还要(准备|带|交)(啥|什么|哪|些)|缺(啥|什么|哪|些)|差(啥|什么|哪|些)|"
    r"够不够|够了(吗|没|不)|齐不齐|"
    r"齐了(吗|没|不)|全不全|能不能(去)?办|可以去办|能去办|能办不|现在(能|可以)?去|行不行|得不得行|要得不"
)
# … as opposed to asking how to replace a lost document (身份证丢了咋个补办).
_ASKS_PROCEDURE = re.compile(
    r"补办|补领|换领|挂失|咋个办|怎么办|咋办|在哪|哪里办|怎么补|咋个补|咋个弄|怎么弄"
)
# Fewer than this many materials named, and no question whether it is enough: not a pre-check.
_MIN_NAMED_WITHOUT_QUESTION = 2


# Words that name materials as such: without them 要办些啥 asks for the steps, not the list.
_NAMES_MATERIALS = re.compile(r"材料|资料|带(哪|啥|什么|些)|证件要|要带|复印")
_ASKS_ORDER = re.compile(r"先办|后办|先后|顺序|哪个先|从头到尾|前前后后")
# The whole event, even right after one of its steps was answered (总共要多久).
_ALL_OF_IT = re.compile(r"总共|一共|整个|全部办完|加起来|整件事|这件事|这些|这几样|这几个")


# Which events there are at all (一件事一次办有哪些、能一次办的事有啥).
_ASKS_FOR_EVENTS = re.compile(
    r"(一件事|一次办|一起办).{0,8}(有哪些|有啥|有什么|哪几|都有|哪样|能办啥|可以办啥|清单|列表)|"
    r"哪些一件事|哪些事(情)?(能|可以)?(一次|一起)办"
)


def asks_for_events(turn: Turn, result: SearchResult | None) -> bool:
    """Which events there are, not what one named event takes (开饭馆一件事要办哪些)."""
    named_event = result is not None and bool(result.linked_bundles)
    return not turn.is_payload and not named_event and bool(_ASKS_FOR_EVENTS.search(turn.text))


def asks_whole(text: str) -> bool:
    return bool(_ASKS_WHOLE.search(text))


def asks_about_all(text: str) -> bool:
    return bool(_ALL_OF_IT.search(text))


def event_aspect(turn: Turn, aspect: str | None) -> str:
    """What to open a life event with: its steps, unless the words ask for one part of it by name
    (材料、多久、在哪、好多钱). 我们要结婚了要办些啥 is read as 问材料 by the NLU; it asks for the steps."""
    if aspect in (None, "conditions") or (aspect == "materials" and not _NAMES_MATERIALS.search(turn.text)):
        return "overview"
    if aspect != "materials" and _ASKS_ORDER.search(turn.text):
        return "overview"  # 先办哪个后办哪个要跑几趟: the steps in order answer it, with the visits
    return aspect


def plan_of(bundle: Bundle) -> BundlePlan | None:
    try:
        return bundle_plan(bundle)
    except BundlePlanError:
        return None


def asked_bundle(turn: Turn, result: SearchResult | None, named: list[Guide]) -> BundlePlan | None:
    """The life event the words ask about: named by its name or a saying (生娃娃), unless they
    name a service and ask only about it; else retrieval's best document when that is an event
    (or close behind, when the words ask what it all takes)."""
    if result is None or turn.is_payload:
        return None
    linked = [bundle for bid in result.linked_bundles if (bundle := get_bundle(bid)) is not None]
    by_name = next((bundle for bundle in linked if bundle.name in turn.text), None)
    if by_name is not None:  # 企业开办一件事要多少天: the event by its own name
        return plan_of(by_name)
    if linked and (not named or asks_whole(turn.text)):
        return plan_of(linked[0])
    if named:
        if not asks_whole(turn.text):
            return None
        return _told_event(turn, result, named) or _event_of_services(turn, named)
    if not result.confident:
        return _likely_event(turn, result)
    for rank, hit in enumerate(result.hits[:3]):
        if hit.kind == "bundle" and (asks_whole(turn.text) or (rank == 0 and _closest(hit, result))):
            bundle = get_bundle(hit.doc_id)
            return plan_of(bundle) if bundle is not None and _fits(bundle, hit, result, turn) else None
    return None


# Words every event's sayings share with any question (people, 办哪些、手续): no sign of which event.
_GENERIC_WORDS = frozenset(
    {
        "要办",
        "办些",
        "哪些",
        "手续",
        "还要",
        "一共",
        "几趟",
        "先办",
        "东西",
        "几样",
        "开个",
        "搞个",
        "有个",
        "一件",
        "一件事",
        "申请",
        "情况",
        "政策",
        "享受",
        "没有",
        "有没有",
        "拿到",
        "之后",
        "同时",
        "网上",
        "代办",
        "代办员",
        "老人",
        "老汉",
        "屋头",
        "家里",
        "我们",
        "孩子",
        "娃儿",
        "才能",
        "需要",
        "可以",
    }
)


def _fits(bundle: Bundle, hit: SearchHit, result: SearchResult, turn: Turn) -> bool:
    """Retrieval's closest event answers only when the words speak of it, or it is as close to
    them as a sentence residents say of a situation, and as close as any guide: 我妈过世了要办哪些
    手续 finds no event of its own and must not get 结婚成家."""
    if _speaks_of(bundle, turn):
        return True
    guides = [h.dense_score or 0.0 for h in result.hits if h.kind == "guide"]
    floor = max([get_settings().index.min_situation_dense_score, *guides])
    return (hit.dense_score or 0.0) >= floor


def _speaks_of(bundle: Bundle, turn: Turn) -> bool:
    """The words share one of their own with how the event is named and told, or its steps'
    guides are named: retrieval's closest event is no answer when no event for it exists
    (开个理发店要办些啥 is no 开办餐饮店; 屋头老人退休了 is no 残疾人服务)."""
    told = [bundle.name, *bundle.aliases, *bundle.says, bundle.lead, *(step.title for step in bundle.steps)]
    for step in bundle.steps:
        guide = get_guide(step.guide)
        if guide is not None:
            told += [guide.name, *guide.aliases]
    return bool((words_of(turn.text) & words_of(" ".join(told))) - _GENERIC_WORDS)


def _closest(event: SearchHit, result: SearchResult) -> bool:
    """An event first without words asking for a whole event: only when the question is as close
    to how residents say that event as to any guide (开个理发店营业执照在哪办 is the 个体户 guide's)."""
    guides = [hit.dense_score or 0.0 for hit in result.hits if hit.kind == "guide"]
    return (event.dense_score or 0.0) >= max(guides, default=0.0)


def _likely_event(turn: Turn, result: SearchResult) -> BundlePlan | None:
    """Not sure enough to answer a service, but the words ask what a whole event takes and an
    event is the closest document, near enough to offer guides for (我想在湄潭开个小面馆要办些啥子
    手续): the event lists every step with its own guide, which is the offer."""
    top = result.hits[0] if result.hits else None
    near = get_settings().index.min_dense_score  # what makes retrieval sure of a guide
    if top is None or top.kind != "bundle" or (top.dense_score or 0.0) < near or not asks_whole(turn.text):
        return None
    bundle = get_bundle(top.doc_id)
    return plan_of(bundle) if bundle is not None and _fits(bundle, top, result, turn) else None


def _told_event(turn: Turn, result: SearchResult, named: list[Guide]) -> BundlePlan | None:
    """Words naming services that are steps of an event and asking what it all takes tell that
    event when retrieval puts it first; a named service alone outranks an event otherwise. An
    event close behind (top three) counts when the words ask for every step (一整套、哪些流程)
    and share a word with its names (新开一家公司…领发票 is 企业开办, not 开办餐饮店)."""
    ids = {guide.id for guide in named}
    asked = _pairs(turn.text)
    candidates: list[tuple[int, int, Bundle]] = []
    for rank, hit in enumerate(result.hits[:3]):
        bundle = get_bundle(hit.doc_id) if hit.kind == "bundle" else None
        if bundle is None or not ids <= {step.guide for step in bundle.steps}:
            continue
        shared = len(asked & _pairs(" ".join((bundle.name, *bundle.aliases))))
        if rank == 0 or (shared and _ASKS_EVERY_STEP.search(turn.text)):
            candidates.append((shared, -rank, bundle))
    return plan_of(max(candidates, key=lambda found: found[:2])[2]) if candidates else None


def _pairs(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1) if " " not in text[i : i + 2]}


def _event_of_services(turn: Turn, named: list[Guide]) -> BundlePlan | None:
    """Several services of one event asked together (迁户口还要取公积金，这几样一起咋个办), or
    what follows one (扯了证后面还要办哪些): the event they belong to, the one where the service
    comes earliest (then the shorter one)."""
    if not asks_whole(turn.text):
        return None
    if len(named) < 2 and not _ASKS_NEXT.search(turn.text):
        return None
    ids = {guide.id for guide in named}
    holding = []
    for bundle in list_bundles():
        members = [step.guide for step in bundle.steps]
        if ids <= set(members):
            holding.append((min(members.index(gid) for gid in ids), len(members), bundle))
    if not holding:
        return None
    return plan_of(min(holding, key=lambda found: found[:2])[2])


def event_of_options(turn: Turn, options: tuple[Guide, ...]) -> BundlePlan | None:
    """Close guides that are steps of one event, asked about together (营业执照和食品的那个证先办
    哪个后办哪个): the event orders them, better than asking which one was meant."""
    if len(options) < 2 or not asks_whole(turn.text):
        return None
    return _event_of_services(replace(turn, text=f"{turn.text} 还要办"), list(options[:2]))


def shared_event(options: tuple[Guide, ...]) -> BundlePlan | None:
    """The event two of the close guides offered are steps of (想开个饭店: 营业执照, 食品经营许可):
    offered beside them, it may be what the resident means."""
    ids = {guide.id for guide in options}
    for bundle in list_bundles():
        if len(ids & {step.guide for step in bundle.steps}) >= 2:
            return plan_of(bundle)
    return None


def remembered_plan(turn: Turn) -> BundlePlan | None:
    bundle = get_bundle(turn.remembered_bundle) if turn.remembered_bundle else None
    return plan_of(bundle) if bundle is not None else None


def asked_step(turn: Turn, plan: BundlePlan) -> PlannedStep | None:
    """第二步要带啥 → the plan's second step."""
    found = _STEP.search(turn.text)
    if found is None:
        return None
    said = found.group(1)
    number = int(said) if said.isdigit() else _NUMERALS[said]
    return plan.step(number) if 1 <= number <= len(plan.steps) else None


def member_step(plan: BundlePlan, guide: Guide) -> PlannedStep | None:
    return next((step for step in plan.steps if step.guide.id == guide.id), None)


def pre_check(turn: Turn, named: list[Guide]) -> tuple[Guide | BundlePlan, PreCheck] | None:
    """A pre-check when the words say what the resident has or lacks (and, with fewer than two
    materials named, ask whether it is enough), against what the conversation is about — the
    guide or event before, else one the words name — whichever list the words match best."""
    text = normalize(turn.text)  # 身份證 → 身份证, as retrieval reads it
    turn = replace(turn, text=text)
    if turn.is_payload or not _STATES.search(text):
        return None
    # 只有X、其他都没得 and 都有了 say how the whole list stands, as a question whether it is enough does
    asks_gap = bool(
        _ASKS_GAP.search(text)
        or _REST_LACKING.search(text)
        or _REST_HAD.search(text)
        or _ALL_HAD.search(text)
    )
    asks_gap = asks_gap or bool(_ONLY.search(text))  # 就只有身份证、只带了身份证: the rest is missing
    if _ASKS_PROCEDURE.search(text) and not asks_gap:
        return None
    context, others = _targets(turn, named)
    card = _CARD_SUBJECT.match(text)
    subject = _subject(card.group(1)) if card is not None else None
    if card is not None and subject is not None:  # ticked on that guide's or event's card
        turn = replace(turn, text=text[card.end() :])
        context, others = [subject], []
    # What the conversation is about wins over a document the words happen to name (身份证).
    best = _best_match(context, turn, matched_at_least=0) or _best_match(others, turn, matched_at_least=1)
    if best is None or (not asks_gap and best[0] < _MIN_NAMED_WITHOUT_QUESTION):
        return None
    return best[1], best[2]


_ALL_HAD = re.compile(r"都有了|都有的|都带齐|带齐了|准备齐了|都准备好")
# "The rest I don't have" says nothing about a material: what is not said to be had is missing.
_REST_LACKING = re.compile(r"(其他|其它|别的|其余)的?(都|全)?(没有|没得|莫得|没带)")
_ONLY = re.compile(r"只(有|带)")
# "The rest I have" (就差个照片，其他都齐了): every required material but what is said to be lacking.
_REST_HAD = re.compile(r"(其他|其它|别的|其余)的?(都|全)(有了|有|齐了|齐|带齐了|带了|在|准备好了)")


def _statement(text: str) -> str:
    """The words as a statement of what one has: the question whether it is enough (还差啥子)
    and "the rest I don't have" set apart, so their 差/没得 do not read as lacking what was named."""
    return _REST_HAD.sub("，", _REST_LACKING.sub("，", _ASKS_GAP.sub("，", text)))


def _best_match(
    targets: list[Guide | BundlePlan] | list[Guide], turn: Turn, *, matched_at_least: int
) -> tuple[int, Guide | BundlePlan, PreCheck] | None:
    """The target whose checklist the words match most materials of, with how many materials
    the words name (matched or not: 结婚证 is no material of 结婚登记, but was said)."""
    best: tuple[int, int, Guide | BundlePlan, PreCheck] | None = None
    for target in targets:
        situation = turn.remembered_situation if isinstance(target, Guide) else None
        if isinstance(target, Guide) and situation and target.situation(situation) is None:
            situation = None
        try:
            statement = _statement(turn.text)
            result = precheck(target, dictionary(), text=statement, situation=situation)
            if result.lacks and _REST_HAD.search(turn.text):
                lacking = {item.name for item in result.lacks}
                gaps = (*result.missing, *result.deferrable)
                rest = [gap.item.name for gap in gaps if gap.item.name not in lacking]
                result = precheck(target, dictionary(), text=statement, ticked=rest, situation=situation)
            if not result.has and not result.lacks and _ALL_HAD.search(turn.text):
                # 我都有了: every required material of what is talked about
                required = [m.name for m in target.materials if m.required]
                result = precheck(target, dictionary(), ticked=required, situation=situation)
        except ValueError:
            continue
        matched = len(result.has) + len(result.lacks)
        named = matched + len(result.unmatched)
        if named and matched >= matched_at_least and (best is None or matched > best[0]):
            best = (matched, named, target, result)
    return None if best is None else (best[1], best[2], best[3])


def needs_subject(turn: Turn, named: list[Guide]) -> bool:
    """What one has, asked whether it is enough, with nothing to check it against: no service or
    event talked about, and the only services the words name are the documents themselves
    (我有户口本和身份证 还差啥子 in a new conversation). Ask which matter, don't guess one."""
    if turn.is_payload or not _STATES.search(turn.text) or not _ASKS_GAP.search(turn.text):
        return False
    context, others = _targets(turn, named)
    return not context and not others and bool(named)


# The widget leads what was ticked on a card with the card's guide or event: 「结婚登记」我有：…
_CARD_SUBJECT = re.compile(r"^「([^」]{2,40})」")


def _subject(name: str) -> Guide | BundlePlan | None:
    bundle = get_bundle(name)
    if bundle is not None:
        return plan_of(bundle)
    return get_guide(name)


def _targets(turn: Turn, named: list[Guide]) -> tuple[list[Guide | BundlePlan], list[Guide]]:
    """(what the conversation is about, guides the words name)."""
    context: list[Guide | BundlePlan] = []
    remembered = get_guide(turn.remembered_service) if turn.remembered_service else None
    if remembered is not None:
        context.append(remembered)
    plan = remembered_plan(turn)
    if plan is not None:
        context.append(plan)
    return context, [g for g in named if g not in context and not _named_as_had(g, turn.text)]


def _named_as_had(guide: Guide, text: str) -> bool:
    """The words name the guide only as a document had or lacked (我有身份证、结婚证找不到了):
    that is a material of something else, not the service to check against."""
    terms = [term for term, ids in dictionary().guide_links.items() if guide.id in ids and term in text]
    return bool(terms) and all(
        re.search(rf"(有|带了|准备了|没有|没得|莫得)[^，。,；;办申]{{0,8}}{re.escape(term)}", text)
        or re.search(
            rf"{re.escape(term)}[^，。,；;]{{0,4}}(有了|都有|在|找不到|丢了|不见|没有|没得|莫得)", text
        )
        for term in terms
    )
