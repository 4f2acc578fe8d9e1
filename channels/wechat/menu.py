"""The official account's custom menu and what each CLICK key asks the assistant."""

from __future__ import annotations

from typing import Any

# CLICK key → the question the resident would have typed; the dialogue layer answers it,
# so menu clicks and typed questions follow the same dialogue.
CLICK_QUESTIONS: dict[str, str] = {
    "GUIDE": "办事指南",
    "PROGRESS": "查询办件进度",
    "APPOINTMENT": "预约办理",
    "POLICY": "政策咨询",
    "HUMAN": "人工服务",
}
HALLS_KEY = "HALLS"  # answered here from halls.yaml: no dialogue needed


def _click(name: str, key: str) -> dict[str, str]:
    return {"type": "click", "name": name, "key": key}


MENU: dict[str, Any] = {
    "button": [
        {
            "name": "办事服务",
            "sub_button": [
                _click("办事指南", "GUIDE"),
                _click("进度查询", "PROGRESS"),
                _click("预约办理", "APPOINTMENT"),
            ],
        },
        _click("政策咨询", "POLICY"),
        {
            "name": "人工服务",
            "sub_button": [_click("人工服务", "HUMAN"), _click("附近大厅", HALLS_KEY)],
        },
    ]
}


def check_menu(menu: dict[str, Any]) -> None:
    """WeChat's limits: at most 3 top-level entries and 5 sub-entries each."""
    buttons = menu["button"]
    if not 1 <= len(buttons) <= 3:
        raise ValueError(f"menu has {len(buttons)} top-level entries; WeChat allows 1–3")
    for button in buttons:
        if len(button.get("sub_button", [])) > 5:
            raise ValueError(f"menu entry {button['name']} has more than 5 sub-entries")
