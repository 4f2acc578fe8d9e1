"""Getting an agent's stored reply to the resident on the channel the handoff came from."""

from __future__ import annotations

from typing import Literal

from channels.wechat.render import split_text
from channels.wechat.runtime import WeChatRuntime

AGENT_LABEL = "【人工客服】"

Route = Literal["wechat", "inbox", "desk"]


def deliver(wechat: WeChatRuntime | None, sender_id: str, text: str, max_bytes: int) -> Route:
    """WeChat residents get a customer-service message (sent in the background, retried, failures
    recorded by the WeChat channel); web residents fetch the stored reply from their inbox; other
    channels (e.g. a hall window) read it at the desk. Must run on the event loop."""
    if sender_id.startswith("wechat:") and wechat is not None:
        openid = sender_id.removeprefix("wechat:")
        wechat.delivery.send_later(openid, split_text(AGENT_LABEL + text, max_bytes))
        return "wechat"
    if sender_id.startswith("web:"):
        return "inbox"
    return "desk"
