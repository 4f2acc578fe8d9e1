"""ChatResponse → WeChat text parts: the answer, one short source line, numbered options.

Every part is at most ``max_bytes`` UTF-8 bytes (the passive-reply budget). An answer that fits is
one part: essentials, source and options on one screen. A longer one is cut at paragraph or line
breaks, and the options block ends the last part whole, so the numbers are the last thing read
and no option is ever cut in two.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from channels.messages import ChatResponse, Source
from channels.wechat.options import Offer, offer_for

SAMPLE_MARK = "示例数据"
MAX_NOTICE_CHARS = 10

# The citation the answering core writes into a guide answer's text, next to the same source in
# the structured card: 来源：《事项》办事指南 · 部门 · 更新于2024年05月01日（示例数据，以…为准）
# A life event's reads 来源：“新生儿出生一件事”及《…》办事指南 · 更新于…
_CITATION = re.compile(r"^来源：[《“](?P<title>[^》”]+)[》”]")
_CN_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NOTICE = re.compile(r"（([^（）]+)）\s*$")
_CLAUSE_END = re.compile(r"[，,。；;]")


class Rendered(BaseModel):
    parts: list[str]
    offer: Offer | None


def render(response: ChatResponse, max_bytes: int) -> Rendered:
    blocks: list[str] = []
    sources: list[Source] = []
    cited_block = -1  # the source line goes under the last message that had a source
    for message in response.messages:
        text, cited = without_citations(message.text or "")
        if text:
            blocks.append(text)
        if message.sources or cited:
            sources += [*message.sources, *cited]
            cited_block = len(blocks) - 1
    line = source_line(sources)
    if line and cited_block >= 0:
        blocks[cited_block] = f"{blocks[cited_block]}\n{line}"
    elif line:
        blocks.append(line)
    last_text = next((m.text for m in reversed(response.messages) if m.text and m.text.strip()), None)
    offer = offer_for([b for m in response.messages for b in m.buttons], last_text)
    parts = pack("\n\n".join(blocks), offer.block() if offer else "", max_bytes)
    return Rendered(parts=parts, offer=offer)


def without_citations(text: str) -> tuple[str, list[Source]]:
    """The text without its 来源 lines in the answering core's format, and those sources."""
    kept: list[str] = []
    cited: list[Source] = []
    for line in text.strip().splitlines():
        found = _CITATION.match(line.strip())
        if found is None:
            kept.append(line)
            continue
        date = _CN_DATE.search(line)
        notice = _NOTICE.search(line)
        cited.append(
            Source(
                title=found["title"],
                updated=f"{date[1]}-{int(date[2]):02d}-{int(date[3]):02d}" if date else None,
                notice=notice[1] if notice else None,
            )
        )
    return "\n".join(kept).strip(), cited


def source_line(sources: list[Source]) -> str:
    """One line for all of an answer's sources: each guide once, with its newest date, then the
    shortened notices once (示例数据 stays: residents must see that the data are samples)."""
    dates: dict[str, str | None] = {}
    for source in sources:
        title = source.title.strip().strip("《》")
        date = _date(source.updated)
        if title not in dates or (date or "") > (dates[title] or ""):
            dates[title] = date
    if not dates:
        return ""
    notices: list[str] = []
    for source in sources:
        notice = short_notice(source.notice)
        if notice and notice not in notices:
            notices.append(notice)
    guides = "；".join(f"{title} · {date}" if date else title for title, date in dates.items())
    return "来源：" + " · ".join([guides, *notices])


def short_notice(notice: str | None) -> str | None:
    if not notice or not notice.strip():
        return None
    if SAMPLE_MARK in notice:
        return SAMPLE_MARK
    clause = _CLAUSE_END.split(notice.strip(), maxsplit=1)[0]
    return clause if len(clause) <= MAX_NOTICE_CHARS else clause[: MAX_NOTICE_CHARS - 1] + "…"


def pack(body: str, options: str, max_bytes: int) -> list[str]:
    """Parts within ``max_bytes``: all in one when it fits; otherwise the body cut to size and the
    options block whole at the end (in the last body part when there is room)."""
    whole = "\n\n".join(block for block in (body.strip(), options.strip()) if block)
    if fits(safe_cdata(whole), max_bytes) or not options.strip():
        return split_text(whole, max_bytes)
    option_parts = split_lines(safe_cdata(options.strip()), max_bytes)
    body_parts = split_text(body, max_bytes) if body.strip() else []
    if body_parts and len(option_parts) == 1 and fits(f"{body_parts[-1]}\n\n{option_parts[0]}", max_bytes):
        return [*body_parts[:-1], f"{body_parts[-1]}\n\n{option_parts[0]}"]
    return [*body_parts, *option_parts]


def split_lines(text: str, max_bytes: int) -> list[str]:
    """Whole lines packed into parts (a line too long for a part on its own is shortened)."""
    parts: list[str] = []
    for line in text.splitlines():
        if not fits(line, max_bytes):
            line = _prefix_within(line, max_bytes - len("…".encode())) + "…"
        if parts and fits(f"{parts[-1]}\n{line}", max_bytes):
            parts[-1] = f"{parts[-1]}\n{line}"
        else:
            parts.append(line)
    return parts


def split_text(text: str, max_bytes: int) -> list[str]:
    """Parts of at most ``max_bytes`` UTF-8 bytes, cut at a paragraph or line break when one is in
    the second half of the part, mid-line otherwise (rather than leave a stub)."""
    text = safe_cdata(text)
    parts: list[str] = []
    while not fits(text, max_bytes):
        head = _prefix_within(text, max_bytes)
        cut = head.rfind("\n\n")
        if cut < len(head) // 2:
            cut = head.rfind("\n")
        if cut < len(head) // 2:
            cut = len(head)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    if text.strip():
        parts.append(text.strip())
    return parts or [""]


def fits(text: str, max_bytes: int) -> bool:
    return len(text.encode("utf-8")) <= max_bytes


def safe_cdata(text: str) -> str:
    """wechatpy puts reply text in CDATA; a literal ``]]>`` would end it early."""
    return text.replace("]]>", "]] >")


def _date(updated: str | None) -> str | None:
    if not updated:
        return None
    found = _ISO_DATE.search(updated)
    return found[0] if found else updated.strip()


def _prefix_within(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
