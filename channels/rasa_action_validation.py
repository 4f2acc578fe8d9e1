"""Rasa checks every action server reply with a validator built once, not once per reply.

Rasa 3.6's ``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result, schema)``
for every custom action it runs (form validations too), and ``jsonschema.validate`` first checks
the *schema* against the draft 2020-12 meta-schema — for Rasa's large EVENTS_SCHEMA that is ~25 ms
of pure Python on Rasa's event loop per action call, 1–3 calls a turn: about 40 % of what Rasa's
single loop spends on a turn under load (py-spy, scale benchmark), so turns queue behind it. The
schema is a constant; here it is checked once and its validator kept. Replies are validated
exactly as before (same validator class, same best_match error, same message).

Loaded by the Rasa server (.venv-rasa) through channels.rasa_connector (credentials.yml).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    if isinstance(error, ValidationError):
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            "For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
    raise error


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result
