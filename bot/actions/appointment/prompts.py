"""The plain questions of the appointment forms.

They are actions rather than utter_ask_ responses because `rasa data validate` reports form
responses as unused, and it must stay free of warnings.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.appointment import common
from bot.actions.backend import get_services
from bot.actions.base import Action
from bot.actions.dates import describe_day

CODE = "请告诉我预约码（预约成功时给您的8位字母和数字，例如 7KQ4MZ2A）。"
PHONE = "请提供预约时留的手机号。"


class FormPrompt(Action, ABC):
    """``action_ask_<form>_<slot>``: a form's fixed question, as an action (the booking forms',
    and others' that set ``form``)."""

    form = "booking_form"

    @property
    @abstractmethod
    def slot(self) -> str: ...

    @property
    @abstractmethod
    def question(self) -> str: ...

    def name(self) -> str:
        return f"action_ask_{self.form}_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=self.question)
        return []


class ActionAskBookingService(FormPrompt):
    slot = "service"
    question = "您要预约办理哪个事项？例如“社保卡申领”“低保申请”“结婚登记”。"


class ActionAskBookingName(FormPrompt):
    """Says back the hall and time first: chosen by a tap, or taken from the opening message
    (想预约办身份证 红花岗的 明天上午10点), the resident sees what was understood."""

    slot = "booking_name"
    question = "请告诉我办事人的姓名。"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        hall_id, day, time = (tracker.get_slot(s) for s in ("booking_hall", "booking_date", "booking_time"))
        hall = next((h.name for h in get_services().halls() if h.id == hall_id), None)
        if hall and day and time:
            when = describe_day(dt.date.fromisoformat(str(day)), common.today())
            chosen = f"好的，「{tracker.get_slot('service')}」，{hall}，{when} {time}。"
            dispatcher.utter_message(text=f"{chosen}{self.question}")
            return []
        return await super().run(dispatcher, tracker, domain)


class ActionAskBookingIdNumber(FormPrompt):
    slot = "booking_id_number"
    question = "请输入办事人的身份证号（18位，只用于核验身份，不会显示完整号码）。"


class ActionAskBookingPhone(FormPrompt):
    slot = "booking_phone"
    question = "请留一个手机号，用于预约提醒，取消或改期时也要用到。"


class ActionAskCancelCode(FormPrompt):
    form = "cancel_booking_form"
    slot = "booking_code"
    question = CODE


class ActionAskCancelPhone(FormPrompt):
    form = "cancel_booking_form"
    slot = "booking_phone"
    question = PHONE


class ActionAskRescheduleCode(FormPrompt):
    form = "reschedule_booking_form"
    slot = "booking_code"
    question = CODE


class ActionAskReschedulePhone(FormPrompt):
    form = "reschedule_booking_form"
    slot = "booking_phone"
    question = PHONE
