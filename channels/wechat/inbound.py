"""What to do with each kind of WeChat message: ask the dialogue layer, or answer right here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channels.wechat.halls import HallDirectory
from channels.wechat.menu import CLICK_QUESTIONS, HALLS_KEY

WELCOME = (
    "您好，欢迎关注遵义市政务服务智能助手！我可以帮您：\n"
    "· 查办事指南：直接发问题，如“低保要带哪些材料”\n"
    "· 查办件进度、预约到大厅办理：点下方菜单“办事服务”\n"
    "· 找最近的政务服务大厅：发送您的位置\n"
    "· 转人工服务：点菜单“人工服务”\n"
    "回答仅供参考，以贵州政务服务网公布为准。"
)
VOICE_NOT_UNDERSTOOD = "抱歉，我暂时还听不懂这条语音，请用文字告诉我您想办理的事项。"
UNSUPPORTED = "抱歉，我暂时只能处理文字和位置消息。请用文字描述您想咨询的事项，如“身份证补办要什么材料”。"
UNKNOWN_MENU = "抱歉，这个菜单暂未开通，请直接发送您想咨询的事项。"
NO_LOCATION = "抱歉，没能读出您发送的位置，请重新发送，或直接告诉我您所在的区县。"
SUGGESTIONS_LEAD = "猜你想问（回复数字即可提问）："


@dataclass(frozen=True)
class Ask:
    """A question for the dialogue layer."""

    text: str


@dataclass(frozen=True)
class Answer:
    """A reply that needs no dialogue."""

    text: str


@dataclass(frozen=True)
class Welcome:
    """A new follower: the welcome, with “猜你想问” as numbered options (channels.wechat.dispatch)."""

    text: str


@dataclass(frozen=True)
class Ignore:
    """Events WeChat only notifies (unsubscribe, menu links, location reports): nothing to say."""


Action = Ask | Answer | Welcome | Ignore


def classify(message: Any, halls: HallDirectory) -> Action:
    kind = str(message.type)
    if kind == "text":
        return Ask(str(message.content or ""))
    if kind == "voice":
        recognition = str(message.recognition or "").strip()
        return Ask(recognition) if recognition else Answer(VOICE_NOT_UNDERSTOOD)
    if kind == "location":
        return Answer(nearest_hall_text(message, halls))
    if kind == "event":
        return _event(message, halls)
    return Answer(UNSUPPORTED)


def _event(message: Any, halls: HallDirectory) -> Action:
    event = str(message.event)
    if event in {"subscribe", "subscribe_scan"}:
        return Welcome(WELCOME)
    if event == "click":
        key = str(message.key or "")
        if key == HALLS_KEY:
            return Answer(halls_text(halls))
        question = CLICK_QUESTIONS.get(key)
        return Ask(question) if question else Answer(UNKNOWN_MENU)
    return Ignore()


def nearest_hall_text(message: Any, halls: HallDirectory) -> str:
    try:
        latitude, longitude = float(message.location_x), float(message.location_y)
    except (TypeError, ValueError):
        return NO_LOCATION
    found = halls.nearest(latitude, longitude)
    if found is None:
        return NO_LOCATION
    hall, km = found
    lines = [
        f"离您最近的政务服务大厅：{hall.name}（直线约 {km:.1f} 公里）",
        f"地址：{hall.address}",
        f"电话：{hall.phone}",
        f"办公时间：{hall.hours}",
    ]
    if halls.sample_notice:
        lines.append(f"（{halls.sample_notice}）")
    return "\n".join(lines)


def halls_text(halls: HallDirectory) -> str:
    lines = ["发送您的位置，我来找离您最近的大厅。全市政务服务大厅："]
    lines.extend(f"· {hall.name}  {hall.phone}" for hall in halls.halls)
    return "\n".join(lines)
