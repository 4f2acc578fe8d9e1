"""ChatResponse → WeChat text: answer, short source lines and numbered options, cut to size."""

from __future__ import annotations

from pydantic import BaseModel

from channels.messages import Button, ChatResponse, Source

MAX_OPTIONS = 9  # one keystroke each


class Rendered(BaseModel):
    parts: list[str]
    options: list[Button]


def render(response: ChatResponse, max_bytes: int) -> Rendered:
    blocks: list[str] = []
    options: list[Button] = []
    for message in response.messages:
        lines = [message.text.strip()] if message.text and message.text.strip() else []
        lines.extend(source_line(source) for source in message.sources)
        if lines:
            blocks.append("\n".join(lines))
        options.extend(message.buttons)
    options = options[:MAX_OPTIONS]
    if options:
        blocks.append("\n".join(f"回复 {n} {button.title}" for n, button in enumerate(options, start=1)))
    return Rendered(parts=split_text("\n\n".join(blocks), max_bytes), options=options)


def source_line(source: Source) -> str:
    return "来源：" + " · ".join(part for part in (source.title, source.updated, source.notice) if part)


def split_text(text: str, max_bytes: int) -> list[str]:
    """Parts of at most ``max_bytes`` UTF-8 bytes, cut at a line break when one is near."""
    text = safe_cdata(text)
    parts: list[str] = []
    while len(text.encode("utf-8")) > max_bytes:
        head = _prefix_within(text, max_bytes)
        cut = head.rfind("\n")
        if cut < len(head) // 2:  # no break in the second half: cut mid-line rather than leave a stub
            cut = len(head)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    if text.strip():
        parts.append(text.strip())
    return parts or [""]


def safe_cdata(text: str) -> str:
    """wechatpy puts reply text in CDATA; a literal ``]]>`` would end it early."""
    return text.replace("]]>", "]] >")


def _prefix_within(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
