"""Hall appointments in the dialogue: book, reschedule and cancel by confirmation code."""

from bot.actions.appointment.booking import (
    ActionAskBookingConfirmed,
    ActionAskBookingDate,
    ActionAskBookingHall,
    ActionAskBookingTime,
    ActionAskRescheduleDate,
    ActionAskRescheduleTime,
    ValidateBookingForm,
)
from bot.actions.appointment.changes import (
    ActionCancelBooking,
    ActionReportBooking,
    ActionRouteAppointment,
    ActionStopAppointment,
    ValidateCancelBookingForm,
    ValidateRescheduleBookingForm,
)
from bot.actions.appointment.prompts import (
    ActionAskBookingIdNumber,
    ActionAskBookingName,
    ActionAskBookingPhone,
    ActionAskBookingService,
    ActionAskCancelCode,
    ActionAskCancelPhone,
    ActionAskRescheduleCode,
    ActionAskReschedulePhone,
)

__all__ = [
    "ActionAskBookingConfirmed",
    "ActionAskBookingDate",
    "ActionAskBookingHall",
    "ActionAskBookingIdNumber",
    "ActionAskBookingName",
    "ActionAskBookingPhone",
    "ActionAskBookingService",
    "ActionAskBookingTime",
    "ActionAskCancelCode",
    "ActionAskCancelPhone",
    "ActionAskRescheduleCode",
    "ActionAskRescheduleDate",
    "ActionAskReschedulePhone",
    "ActionAskRescheduleTime",
    "ActionCancelBooking",
    "ActionReportBooking",
    "ActionRouteAppointment",
    "ActionStopAppointment",
    "ValidateBookingForm",
    "ValidateCancelBookingForm",
    "ValidateRescheduleBookingForm",
]
