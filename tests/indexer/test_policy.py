"""The city's plan is split into citable items."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import get_settings
from indexer.policy import load_policy_faq, parse_policy

PLAN = get_settings().knowledge.policies_dir / "zunyi-fubanfa-2017-39.txt"


def test_numbered_items_become_units_with_their_headings() -> None:
    items = {item.label: item for item in parse_policy(PLAN)}
    assert {str(n) for n in range(1, 27)} <= items.keys()
    assert items["5"].heading == "优化网上办理模式"
    assert "次数不得超过2次" in items["5"].text
    assert items["20"].heading == "深化“全程代办”服务"
    assert items["5"].doc_number == "遵府办发〔2017〕39号"


def test_paragraphs_without_numbered_items_are_units_too() -> None:
    labels = [item.label for item in parse_policy(PLAN)]
    assert "五(二)" in labels and "一(三)" in labels
    assert "二(一)" not in labels  # a heading over numbered items is not a unit of its own


def test_faq_for_an_item_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    policy = tmp_path / "plan.txt"
    policy.write_text("某方案\n一、总体\n1.第一条。内容。\n", encoding="utf-8")
    (tmp_path / "plan.faq.yaml").write_text("items:\n  '9':\n    - q: 问\n      a: 答\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"plan\.faq\.yaml: items\.9"):
        load_policy_faq(policy, {item.label for item in parse_policy(policy)})
