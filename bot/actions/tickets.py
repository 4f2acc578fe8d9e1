"""Handoff to a human and complaints: tickets the service centre follows up."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.backend import channel_of, get_services, transcript
from services.errors import DomainError
from services.feedback import ComplaintRequest, HandoffRequest
from services.models import ComplaintKind


class ActionOpenHandoff(Action):
    def name(self) -> str:
        return "action_open_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ticket = get_services().open_handoff(
            HandoffRequest(
                sender_id=tracker.sender_id,
                channel=channel_of(tracker),
                transcript=transcript(tracker),
                reason=tracker.latest_message.get("text"),
            )
        )
        dispatcher.utter_message(
            text=f"已为您转接人工服务（工单号 {ticket.ticket}），工作人员会在这里回复您，请稍候。"
            "工作日 9:00—17:00 之外请留言，或拨打政务服务热线 12345。",
            json_message={"type": "handoff", "ticket": ticket.ticket},
        )
        return []


class ActionOpenComplaint(Action):
    def name(self) -> str:
        return "action_open_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        kind = ComplaintKind.correction if "纠错" in text or "曝光" in text else ComplaintKind.complaint
        try:
            complaint = get_services().open_complaint(
                ComplaintRequest(
                    sender_id=tracker.sender_id, kind=kind, content=text, channel=channel_of(tracker)
                )
            )
        except DomainError as error:
            dispatcher.utter_message(text=error.message)
            return []
        dispatcher.utter_message(
            text=f"已登记您的{complaint.kind_label}，受理编号 {complaint.tracking_number}。"
            "我们会转交相关部门处理，可凭编号查询进度；急事请拨打 12345。",
            json_message={"type": "complaint", "tracking_number": complaint.tracking_number},
        )
        return []
