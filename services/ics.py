"""An iCalendar (.ics) file for a booking, so residents can add it to their phone's calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from services.appointments import Booking

PRODID = "-//Zunyi Government Service Assistant//appointments//ZH"


def booking_calendar(booking: Booking, timezone: str, *, stamp: dt.datetime) -> bytes:
    """One VEVENT at the hall, with a reminder the evening before; no clear personal data inside."""
    zone = ZoneInfo(timezone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-timezone", timezone)

    event = Event()
    event.add("uid", f"{booking.code}@zunyi-zwfw")
    event.add("dtstamp", stamp.replace(tzinfo=zone))
    event.add("dtstart", booking.start.replace(tzinfo=zone))
    event.add("dtend", booking.end.replace(tzinfo=zone))
    event.add("summary", f"政务服务预约：{booking.service_name}")
    event.add("location", f"{booking.hall_name}（{booking.hall_address}）{booking.window}")
    event.add(
        "description",
        f"预约码：{booking.code}\n事项：{booking.service_name}\n窗口：{booking.window}\n"
        f"请携带本人身份证原件和申请材料，提前10分钟到达取号。\n咨询电话：{booking.hall_phone}",
    )
    event.add("status", "CONFIRMED" if booking.status.value == "booked" else "CANCELLED")

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"明天 {booking.start:%H:%M} 到{booking.hall_name}办理{booking.service_name}")
    alarm.add("trigger", dt.timedelta(hours=-15))
    event.add_component(alarm)
    calendar.add_component(event)
    # Calendar apps that do not know the zone by name need its VTIMEZONE definition.
    calendar.add_missing_timezones()
    return calendar.to_ical()
