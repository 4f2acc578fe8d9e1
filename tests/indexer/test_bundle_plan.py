"""A bundle's plan from hand-made guides: the critical path, hall visits, the step order, and one
merged materials list (through the dictionary, stricter 原件/份数, earlier steps' outputs)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from core.settings import PROJECT_ROOT
from indexer.bundle_plan import BundlePlan, BundlePlanError, plan_bundle
from indexer.bundle_schema import Bundle, BundleStep
from indexer.dictionary import DomainDictionary, load_dictionary
from indexer.loader import load_guides
from indexer.schema import SAMPLE_NOTICE, Guide, Material, MaterialForm, Online, TimeLimits

_TEMPLATE = load_guides(PROJECT_ROOT / "knowledge" / "guides").guides[0].guide


def guide(
    guide_id: str,
    days: int = 0,
    visits: int = 1,
    online: bool = False,
    materials: list[Material] | None = None,
) -> Guide:
    return _TEMPLATE.model_copy(
        update={
            "id": guide_id,
            "name": f"事项{guide_id}",
            "time_limits": TimeLimits(legal_days=None, promised_days=days),
            "max_visits": visits,
            "online": Online(fully_online=online),
            "materials": materials or [material("申请表", form="填写表格")],
        }
    )


def material(
    name: str,
    form: str = "原件",
    copies: int = 1,
    required: bool = True,
    e_license: bool = False,
    deferrable: bool = False,
) -> Material:
    return Material(
        name=name,
        basis="示例依据",
        form=MaterialForm(form),
        copies=copies,
        signature="无",
        required=required,
        condition=None if required else "某些情形",
        e_license=e_license,
        deferrable=deferrable,
    )


def step(step_id: str, *depends_on: str, **fields: object) -> BundleStep:
    return BundleStep.model_validate(
        {
            "id": step_id,
            "guide": fields.pop("guide", step_id),
            "title": f"第{step_id}项",
            "depends_on": list(depends_on),
            **fields,
        }
    )


def bundle(*steps: BundleStep) -> Bundle:
    return Bundle(
        id="test",
        name="测试一件事",
        sample_notice=SAMPLE_NOTICE,
        aliases=["测试"],
        says=["一", "二", "三"],
        lead="导语",
        steps=list(steps),
        notes=["注意"],
        updated=dt.date(2026, 11, 30),
    )


@pytest.fixture(scope="module")
def dictionary() -> DomainDictionary:
    return load_dictionary(PROJECT_ROOT / "knowledge" / "dictionary")


def _plan(
    b: Bundle,
    guides: list[Guide],
    dictionary: DomainDictionary,
    choices: dict[str, str] | None = None,
    skip: list[str] | None = None,
) -> BundlePlan:
    return plan_bundle(b, {g.id: g for g in guides}, dictionary, choices=choices, skip=skip or ())


def test_the_longer_parallel_branch_decides_the_total(dictionary: DomainDictionary) -> None:
    b = bundle(step("a"), step("b", "a"), step("c", "a"), step("d", "c"), step("e", "b", "d"))
    slow_b = [guide("a", 2), guide("b", 10), guide("c", 3), guide("d", 4), guide("e", 1)]
    plan = _plan(b, slow_b, dictionary)
    assert plan.total_days == 2 + 10 + 1
    assert plan.critical_path == (1, 2, 5)
    assert [s.critical for s in plan.steps] == [True, True, False, False, True]
    assert plan.step(2).parallel_with == (3, 4)
    assert plan.stages == ((1,), (2, 3), (4,), (5,))

    quick_b = [guide("a", 2), guide("b", 5), guide("c", 3), guide("d", 4), guide("e", 1)]
    plan = _plan(b, quick_b, dictionary)
    assert plan.total_days == 2 + 3 + 4 + 1
    assert plan.critical_path == (1, 3, 4, 5)
    assert plan.step(5).start_day == 9


def test_immediate_services_take_no_days(dictionary: DomainDictionary) -> None:
    plan = _plan(bundle(step("a"), step("b", "a")), [guide("a", 0), guide("b", 0)], dictionary)
    assert plan.total_days == 0 and plan.critical_path == (1, 2)


def test_hall_visits_count_in_person_steps_and_online_ones_need_none(dictionary: DomainDictionary) -> None:
    b = bundle(step("a"), step("b", "a"), step("c", "a"), step("d", "a"))
    guides = [
        guide("a", visits=1),
        guide("b", visits=2),
        guide("c", visits=1, online=True),
        guide("d", visits=0),
    ]
    plan = _plan(b, guides, dictionary)
    assert plan.hall_visits == 3
    assert plan.online_steps == (3,)


def test_steps_come_in_a_valid_order_whatever_order_they_are_listed(dictionary: DomainDictionary) -> None:
    b = bundle(step("late", "middle"), step("middle", "first"), step("first"), step("free"))
    guides = [guide(g) for g in ("late", "middle", "first", "free")]
    plan = _plan(b, guides, dictionary)
    assert [s.step.id for s in plan.steps] == ["first", "middle", "late", "free"]
    assert plan.step(3).after == (2,)
    assert plan.step(4).parallel_with == (1, 2, 3)


def test_one_of_several_alternatives_and_optional_steps(dictionary: DomainDictionary) -> None:
    b = bundle(
        step("person", choice="主体"),
        step("company", choice="主体"),
        step("licence", "person", "company"),
        step("extra", "licence", when="需要时"),
        step("last", "extra"),
    )
    guides = [
        guide("person", 0),
        guide("company", 5),
        guide("licence", 3),
        guide("extra", 7),
        guide("last", 1),
    ]
    default = _plan(b, guides, dictionary)
    assert [s.step.id for s in default.steps] == ["person", "licence", "extra", "last"]
    assert default.total_days == 0 + 3 + 7 + 1 and default.left_out == ("company",)

    chosen = _plan(b, guides, dictionary, choices={"主体": "company"}, skip=["extra"])
    assert [s.step.id for s in chosen.steps] == ["company", "licence", "last"]
    assert chosen.step(3).after == (2,)  # waits for what the skipped step waited for
    assert chosen.total_days == 5 + 3 + 1

    with pytest.raises(BundlePlanError, match="“第licence项”是这件事必办的步骤，不能省略"):
        _plan(b, guides, dictionary, skip=["licence"])
    with pytest.raises(BundlePlanError, match="“licence”不是“主体”的可选步骤"):
        _plan(b, guides, dictionary, choices={"主体": "licence"})


def test_one_document_is_asked_once_with_the_steps_that_use_it(dictionary: DomainDictionary) -> None:
    b = bundle(step("a"), step("b", "a"), step("c", "a"))
    guides = [
        guide("a", materials=[material("父母双方居民身份证", form="复印件", copies=1, required=False)]),
        guide("b", materials=[material("身份证", form="原件", copies=2)]),
        guide("c", materials=[material("居民身份证或居民户口簿", form="复印件", copies=3, required=False)]),
    ]
    (line,) = _plan(b, guides, dictionary).materials
    assert line.name == "居民身份证"
    assert line.steps == (1, 2, 3)
    assert [u.material.name for u in line.uses] == ["父母双方居民身份证", "身份证", "居民身份证或居民户口簿"]
    assert line.form is MaterialForm.original  # 原件 beats 复印件
    assert line.copies == 3  # more copies wins
    assert line.required  # required if any step requires it


def test_what_only_an_optional_step_needs_is_needed_only_in_its_case(dictionary: DomainDictionary) -> None:
    b = bundle(step("a"), step("b", "a", when="想用公积金付房款的"))
    guides = [
        guide("a", materials=[material("身份证", form="原件", copies=0)]),
        guide("b", materials=[material("身份证", form="原件", copies=0), material("本人名下银行借记卡")]),
    ]
    card, bank = _plan(b, guides, dictionary).materials
    assert card.required  # step a needs it whatever the case
    assert not bank.required and bank.conditions == ("想用公积金付房款的",)


def test_original_and_copy_is_stricter_than_either(dictionary: DomainDictionary) -> None:
    b = bundle(step("a"), step("b"))
    guides = [
        guide("a", materials=[material("《结婚证》", form="原件和复印件")]),
        guide("b", materials=[material("结婚证", form="原件", copies=0)]),
    ]
    (line,) = _plan(b, guides, dictionary).materials
    assert line.form is MaterialForm.original_and_copy and line.copies == 1


def test_synonyms_come_from_the_dictionary_not_string_equality(tmp_path: Path) -> None:
    b = bundle(step("a"), step("b"))
    guides = [
        guide("a", materials=[material("落户方（父亲或母亲）的居民户口簿")]),
        guide("b", materials=[material("户口本", form="复印件")]),
    ]
    without = load_dictionary(tmp_path / "empty")
    assert len(_plan(b, guides, without).materials) == 2

    (tmp_path / "dictionary").mkdir()
    (tmp_path / "dictionary" / "synonyms.yaml").write_text(
        yaml.safe_dump({"services": {"居民户口簿": ["户口本", "户口簿"]}}, allow_unicode=True),
        encoding="utf-8",
    )
    (line,) = _plan(b, guides, load_dictionary(tmp_path / "dictionary")).materials
    assert line.name == "居民户口簿" and line.steps == (1, 2) and line.form is MaterialForm.original


def test_electronic_licences_and_deferrable_items_are_marked_only_if_every_step_agrees(
    dictionary: DomainDictionary,
) -> None:
    b = bundle(step("a"), step("b"))
    guides = [
        guide("a", materials=[material("居民身份证", e_license=True), material("照片", deferrable=True)]),
        guide("b", materials=[material("身份证", e_license=True), material("照片", deferrable=False)]),
    ]
    card, photo = _plan(b, guides, dictionary).materials
    assert card.e_license and not card.to_bring
    assert not photo.deferrable and photo.to_bring

    guides[1] = guide("b", materials=[material("身份证", e_license=False), material("照片", deferrable=True)])
    card, photo = _plan(b, guides, dictionary).materials
    assert not card.e_license and card.to_bring
    assert photo.deferrable


def test_what_an_earlier_step_issues_is_not_asked_for(dictionary: DomainDictionary) -> None:
    b = bundle(
        step("hospital", produces=["出生医学证明"]),
        step("police", "hospital"),
        step("insurance", "police"),
        step("unrelated"),
    )
    guides = [
        guide("hospital", materials=[material("分娩记录", form="电子材料", copies=0)]),
        guide("police", materials=[material("《出生医学证明》", form="原件和复印件")]),
        guide("insurance", materials=[material("出生证", required=False)]),
        guide("unrelated", materials=[material("申请表", form="填写表格")]),
    ]
    plan = _plan(b, guides, dictionary)
    certificate = next(m for m in plan.materials if m.name == "出生医学证明")
    assert certificate.obtained_from == 1 and not certificate.to_bring
    assert [u.obtained_from for u in certificate.uses] == [1, 1]

    parallel = _plan(
        bundle(step("hospital", produces=["出生医学证明"]), step("police")), guides[:2], dictionary
    )
    certificate = next(m for m in parallel.materials if m.name == "出生医学证明")
    assert certificate.obtained_from is None and certificate.to_bring  # not guaranteed to exist yet


def test_a_missing_member_guide_is_reported_in_chinese(dictionary: DomainDictionary) -> None:
    with pytest.raises(BundlePlanError, match="“测试一件事”用到的办事指南不存在：b"):
        _plan(bundle(step("a"), step("b", "a")), [guide("a")], dictionary)
