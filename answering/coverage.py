"""Whether a guide covers what the words ask to do.

Residents name a document or service and ask for a neighbouring procedure no guide describes:
结婚证丢了 beside 结婚登记, 抵押登记 beside 不动产转移登记, 烟花爆竹批发 beside 零售许可, 驾驶证年审
beside 换证. Answering with the named guide would send them to the hall with the wrong list, so
such a question is told there is no guide for it. A guide covers a procedure when its name,
aliases, situations or FAQ questions speak of it.
"""

from __future__ import annotations

import re

from indexer.schema import Guide, Situation

REPLACEMENT = "补办、补领证件"
# Replacing a lost or damaged document (结婚证搞丢了咋个补), not 补缴 or losing one's job.
_REPLACING = re.compile(
    r"补(办|领|发|证|个|张|本|一个|一张|一本)|"
    r"(证|照|卡|本|簿|证明|执照)[^，,。？?]{0,4}(丢|遗失|掉了|不见|遭偷|被偷|损坏|烂了|坏了)"
)
_REPLACEMENT_WORDS = re.compile(r"补(办|领|发|证|换)|遗失|丢|损毁|损坏")
# Procedures of their own that share a document or a service's words: what the words say →
# what the guide must speak of to cover it (its name for the reply).
_OTHER_PROCEDURES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"抵押登记|办抵押|抵押手续"), "抵押登记"),
    (re.compile(r"首次登记"), "首次登记"),
    (re.compile(r"预告登记"), "预告登记"),
    (re.compile(r"查封"), "查封"),
    (re.compile(r"离婚登记|协议离婚|办离婚|离婚手续|扯离婚"), "离婚登记"),
    (re.compile(r"批发"), "批发"),
    (re.compile(r"年审|审验"), "年审"),
    (re.compile(r"车[^，,。？?]{0,6}年检|年检[^，,。？?]{0,6}车"), "机动车年检"),
    (re.compile(r"签证"), "签证"),
    (re.compile(r"迁出"), "迁出"),
    (re.compile(r"注销"), "注销"),
    (re.compile(r"退租"), "退租"),
    (re.compile(r"挂失"), "挂失"),
    (
        re.compile(
            r"死亡证明|丧葬|后事|(过世|去世|死了|走了).{0,12}(手续|证明|户口|销|领|处理|咋个办|怎么办|要办)"
        ),
        "身后事（死亡证明、户口注销、丧葬补助）",
    ),
    (re.compile(r"销户|注销户口|户口.{0,4}销"), "户口注销"),
)


def uncovered(text: str, guide: Guide) -> str | None:
    """What the words ask to do that ``guide`` does not cover, named for the reply; else None."""
    about = _about(guide)
    if _REPLACING.search(text) and not _REPLACEMENT_WORDS.search(about):
        return REPLACEMENT
    for said, procedure in _OTHER_PROCEDURES:
        if said.search(text) and not said.search(about) and procedure not in about:
            return procedure
    return None


def replacement_situation(guide: Guide, text: str) -> Situation | None:
    """The guide's case for replacing its document, when the words ask to replace it."""
    if not _REPLACING.search(text):
        return None
    return next((s for s in guide.situations if _REPLACEMENT_WORDS.search(" ".join((s.name, *s.says)))), None)


def _about(guide: Guide) -> str:
    words = [guide.name, *guide.aliases, *(faq.q for faq in guide.faqs)]
    words += [said for situation in guide.situations for said in (situation.name, *situation.says)]
    return "\n".join(words)
