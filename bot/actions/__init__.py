"""Custom actions for the rasa_sdk action server (`python -m rasa_sdk --actions bot.actions`)."""

from bot.actions.fallback import ActionDefaultFallback
from bot.actions.policy import ActionAnswerPolicy
from bot.actions.service_question import ActionAnswerServiceQuestion
from bot.actions.status import ActionCheckApplicationStatus, ValidateApplicationStatusForm
from bot.actions.tickets import ActionOpenComplaint, ActionOpenHandoff, ActionRecordFeedback

__all__ = [
    "ActionAnswerPolicy",
    "ActionAnswerServiceQuestion",
    "ActionCheckApplicationStatus",
    "ActionDefaultFallback",
    "ActionOpenComplaint",
    "ActionOpenHandoff",
    "ActionRecordFeedback",
    "ValidateApplicationStatusForm",
]
