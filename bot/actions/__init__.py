"""Custom actions for the rasa_sdk action server (`python -m rasa_sdk --actions bot.actions`)."""

from bot.actions.appointment import (
    ActionAskBookingConfirmed,
    ActionAskBookingDate,
    ActionAskBookingHall,
    ActionAskBookingIdNumber,
    ActionAskBookingName,
    ActionAskBookingPhone,
    ActionAskBookingService,
    ActionAskBookingTime,
    ActionAskCancelCode,
    ActionAskCancelPhone,
    ActionAskRescheduleCode,
    ActionAskRescheduleDate,
    ActionAskReschedulePhone,
    ActionAskRescheduleTime,
    ActionCancelBooking,
    ActionReportBooking,
    ActionRouteAppointment,
    ActionStopAppointment,
    ValidateBookingForm,
    ValidateCancelBookingForm,
    ValidateRescheduleBookingForm,
)
from bot.actions.eligibility import (
    ActionGiveEligibilityVerdict,
    ActionStartEligibilityCheck,
    ValidateEligibilityForm,
)
from bot.actions.fallback import ActionDefaultFallback
from bot.actions.policy import ActionAnswerPolicy
from bot.actions.rating import ActionOfferRating, ActionRecordFeedback
from bot.actions.service_question import ActionAnswerServiceQuestion
from bot.actions.status import (
    ActionAskApplicationNumber,
    ActionAskStatusProof,
    ActionCheckApplicationStatus,
    ActionStopStatusCheck,
    ValidateApplicationStatusForm,
)
from bot.actions.tickets import ActionOpenComplaint, ActionOpenHandoff

__all__ = [
    "ActionAnswerPolicy",
    "ActionAnswerServiceQuestion",
    "ActionAskApplicationNumber",
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
    "ActionAskStatusProof",
    "ActionCancelBooking",
    "ActionCheckApplicationStatus",
    "ActionDefaultFallback",
    "ActionGiveEligibilityVerdict",
    "ActionOfferRating",
    "ActionOpenComplaint",
    "ActionOpenHandoff",
    "ActionRecordFeedback",
    "ActionReportBooking",
    "ActionRouteAppointment",
    "ActionStartEligibilityCheck",
    "ActionStopAppointment",
    "ActionStopStatusCheck",
    "ValidateApplicationStatusForm",
    "ValidateBookingForm",
    "ValidateCancelBookingForm",
    "ValidateEligibilityForm",
    "ValidateRescheduleBookingForm",
]
