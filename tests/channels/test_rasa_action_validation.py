"""channels/rasa_action_validation.py inside Rasa (.venv-rasa): action replies are validated as
before, with a validator built once instead of a meta-schema check on every reply."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))  # rasa_python, whatever pytest's import mode
from rasa_python import run_in_rasa

# Runs in .venv-rasa: Rasa's own check (jsonschema.validate) beside the installed one.
SCRIPT = """
import json
from jsonschema import ValidationError, validate
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
import channels.rasa_connector  # installs the cached validator, as Rasa loading credentials.yml does

# Count checks of the schema itself against the meta-schema (what made each reply slow).
validator_class = validator_for(RemoteAction.action_response_format_spec())
check_schema = validator_class.check_schema.__func__
schema_checks = []

def counted(cls, schema, *args, **kwargs):
    schema_checks.append(1)
    return check_schema(cls, schema, *args, **kwargs)

validator_class.check_schema = classmethod(counted)

action = RemoteAction("validate_appointment_form", None)
good = {"events": [{"event": "slot", "name": "hall", "value": "播州区政务服务中心"}],
        "responses": [{"text": "请问哪天去办理？", "buttons": [{"title": "明天", "payload": "/inform"}]}]}
bad = {"events": [{"event": "slot"}], "responses": "不是列表"}

def message(check, reply):
    try:
        check(reply)
        return None
    except ValidationError as error:
        return error.message

valid = [action._validate_action_result(good) for _ in range(50)]
ours = message(action._validate_action_result, bad)
ours_checks = len(schema_checks)
spec = RemoteAction.action_response_format_spec()
stock = [message(lambda r: validate(r, spec), reply) for reply in (good, bad)]
print(json.dumps({"valid": all(valid), "ours": ours, "stock": stock[1],
                  "ours_checks": ours_checks, "stock_checks": len(schema_checks) - ours_checks}))
"""


@pytest.fixture(scope="module")
def checked() -> dict:
    return dict(run_in_rasa(SCRIPT))


def test_a_valid_reply_passes(checked: dict) -> None:
    assert checked["valid"] is True


def test_an_invalid_reply_fails_with_rasas_message(checked: dict) -> None:
    assert checked["stock"] is not None
    assert checked["ours"].startswith(checked["stock"])
    assert "Failed to validate Action server response" in checked["ours"]


def test_the_schema_is_checked_once_not_per_reply(checked: dict) -> None:
    # jsonschema.validate checks the schema against its meta-schema on every call (~25 ms here for
    # Rasa's events schema); 51 replies through the installed validator check it at most once.
    assert checked["stock_checks"] == 2
    assert checked["ours_checks"] <= 1
