"""Life-event bundles as knowledge: the shipped ones load over the real guides, and every problem
in a bundle file is reported in Chinese with its file and field, without stopping the others."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from core.settings import PROJECT_ROOT, get_settings
from indexer.bundle_plan import plan_bundle
from indexer.bundle_schema import Bundle
from indexer.bundles import load_bundles
from indexer.dictionary import load_dictionary
from indexer.loader import load_guides
from indexer.schema import SAMPLE_NOTICE

SHIPPED = PROJECT_ROOT / "knowledge" / "bundles" / "xinshenger_chusheng.yaml"


@pytest.fixture(scope="module")
def guides() -> dict:
    knowledge = get_settings().knowledge
    return {loaded.guide.id: loaded.guide for loaded in load_guides(knowledge.guides_dir).guides}


def _write(directory: Path, name: str, change: dict | None = None, drop: str | None = None) -> Path:
    """A copy of the shipped 新生儿出生 bundle under ``name``, with ``change`` applied."""
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data["id"] = name
    data["name"] = f"{name}一件事"
    data.update(change or {})
    if drop:
        del data[drop]
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _steps(**changes: dict) -> list[dict]:
    steps = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["steps"]
    for step in steps:
        step.update(changes.get(step["id"], {}))
    return steps


def test_shipped_bundles_load_over_existing_guides_and_plan(guides: dict) -> None:
    knowledge = get_settings().knowledge
    result = load_bundles(knowledge.bundles_dir, guides)
    assert result.problems == ()
    names = {loaded.bundle.name for loaded in result.bundles}
    assert len(names) >= 6
    for event in ("新生儿出生", "开办餐饮店", "企业开办", "残疾人服务", "教育入学"):
        assert any(name.startswith(event) for name in names), event
    dictionary = load_dictionary(knowledge.dictionary_dir, guides.values())
    for loaded in result.bundles:
        bundle = loaded.bundle
        assert bundle.sample_notice == SAMPLE_NOTICE
        assert all(step.guide in guides for step in bundle.steps)
        plan = plan_bundle(bundle, guides, dictionary)
        assert plan.steps and plan.materials, bundle.id


def test_newborn_bundle_orders_certificate_registration_then_insurance_and_card(guides: dict) -> None:
    knowledge = get_settings().knowledge
    bundle = load_bundles(knowledge.bundles_dir, guides).get("xinshenger_chusheng")
    assert bundle is not None
    plan = plan_bundle(bundle, guides, load_dictionary(knowledge.dictionary_dir, guides.values()))
    number = {step.guide.id: step.number for step in plan.steps}
    assert number["chusheng_yixue_zhengming"] < number["chusheng_dengji"]
    registration = plan.step(number["chusheng_dengji"])
    insurance = plan.step(number["chengxiang_jumin_yibao_jiaofei"])
    assert insurance.after == (registration.number,)
    assert number["shehui_baozhangka_shenling"] in insurance.parallel_with
    certificate = next(m for m in plan.materials if m.name == "出生医学证明")
    assert certificate.obtained_from == number["chusheng_yixue_zhengming"] and not certificate.to_bring


def test_each_problem_names_file_and_field_in_chinese_and_others_still_load(
    tmp_path: Path, guides: dict
) -> None:
    _write(tmp_path, "good")
    _write(tmp_path, "no_notice", drop="sample_notice")
    _write(tmp_path, "unknown_guide", {"steps": _steps(yibao={"guide": "no_such_guide"})})
    _write(
        tmp_path, "missing_step", {"steps": _steps(shebaoka={"depends_on": ["chusheng_dengji", "hospital"]})}
    )
    _write(tmp_path, "cycle", {"steps": _steps(yixue_zhengming={"depends_on": ["shebaoka"]})})
    _write(tmp_path, "duplicate", {"steps": _steps(shebaoka={"id": "yibao"})})
    _write(tmp_path, "typo", {"stepz": []})
    (tmp_path / "wrong_name.yaml").write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")

    result = load_bundles(tmp_path, guides)
    reported = {str(problem) for problem in result.problems}

    assert [loaded.bundle.id for loaded in result.bundles] == ["good"]
    assert "no_notice.yaml: sample_notice: 缺少必填字段" in reported
    assert (
        "unknown_guide.yaml: steps.3.guide: 未知的办事指南“no_such_guide”（或该指南未通过校验）" in reported
    )
    assert "missing_step.yaml: steps.4.depends_on: 依赖的步骤“hospital”不存在" in reported
    assert (
        "cycle.yaml: steps: 步骤依赖成环：yixue_zhengming → shebaoka → chusheng_dengji → yixue_zhengming"
        in reported
    )
    assert "duplicate.yaml: steps.4.id: 步骤 id“yibao”重复" in reported
    assert "typo.yaml: stepz: 未知字段（拼写错了？）" in reported
    assert "wrong_name.yaml: id: 应与文件名一致（wrong_name）" in reported
    assert len(result.skipped_files) == 7


def test_a_step_situation_the_guide_does_not_have_is_reported(tmp_path: Path, guides: dict) -> None:
    _write(tmp_path, "odd_situation", {"steps": _steps(yibao={"situation": "no_such_case"})})
    situations = {gid: [s.id for s in guide.situations] for gid, guide in guides.items()}
    (problem,) = load_bundles(tmp_path, guides, situations).problems
    guide = "chengxiang_jumin_yibao_jiaofei"
    assert str(problem) == f"odd_situation.yaml: steps.3.situation: 办事指南“{guide}”没有情形“no_such_case”"


def test_a_steps_situation_adds_its_materials_to_the_merged_list(guides: dict) -> None:
    # 医保参保 in 新生儿出生 is a newborn's: the 出生医学证明 step 2 issues, and a guardian's ID card.
    knowledge = get_settings().knowledge
    bundle = load_bundles(knowledge.bundles_dir, guides).get("xinshenger_chusheng")
    assert bundle is not None
    plan = plan_bundle(bundle, guides, load_dictionary(knowledge.dictionary_dir, guides.values()))
    insurance = next(step for step in plan.steps if step.guide.id == "chengxiang_jumin_yibao_jiaofei")
    assert insurance.situation is not None and insurance.situation.id == "xinshenger"
    certificate = next(m for m in plan.materials if m.name == "出生医学证明")
    assert insurance.number in certificate.steps and not certificate.to_bring
    card = next(m for m in plan.materials if m.name == "居民身份证")
    assert insurance.number in card.steps and card.to_bring  # a guardian's card is no e-licence here


def test_a_half_chosen_alternative_is_an_error(tmp_path: Path, guides: dict) -> None:
    steps = [
        {"id": "geti", "guide": "getigongshanghu_sheli", "title": "个体户", "choice": "经营主体"},
        {"id": "gongsi", "guide": "youxianzerengongsi_sheli", "title": "公司", "choice": "经营主体"},
        {"id": "xuke", "guide": "shipin_jingying_xuke", "title": "许可", "depends_on": ["geti"]},
    ]
    _write(tmp_path, "half", {"steps": steps})
    (problem,) = load_bundles(tmp_path, guides).problems
    assert str(problem) == "half.yaml: steps.2.depends_on: 须依赖“经营主体”的全部可选步骤（geti、gongsi）"


def test_a_bundle_built_in_code_is_checked_too() -> None:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data["steps"] = _steps(yixue_zhengming={"depends_on": ["yixue_zhengming"]})
    with pytest.raises(ValidationError, match="步骤依赖成环：yixue_zhengming → yixue_zhengming"):
        Bundle.model_validate(data)


def test_a_missing_bundles_folder_is_an_empty_set(tmp_path: Path, guides: dict) -> None:
    result = load_bundles(tmp_path / "absent", guides)
    assert result.bundles == () and result.problems == ()


def test_validate_command_reports_bundle_problems(tmp_path: Path) -> None:
    _write(tmp_path, "broken", {"steps": _steps(yibao={"guide": "no_such_guide"})})
    done = subprocess.run(
        [sys.executable, "-m", "indexer", "validate"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        env={**os.environ, "ZY_KNOWLEDGE__BUNDLES_DIR": str(tmp_path)},
    )
    assert done.returncode == 1
    assert "broken.yaml: steps.3.guide: 未知的办事指南“no_such_guide”" in done.stderr
    assert "个办事指南通过校验，0 个文件有问题" in done.stdout
    assert "0 个“一件事”通过校验，1 个文件有问题" in done.stdout


def test_premises_papers_a_tenant_brings_are_not_marked_as_an_electronic_licence(guides: dict) -> None:
    # 房屋产权证明或租赁合同: the hall can fetch a 不动产权证书, never a lease.
    knowledge = get_settings().knowledge
    dictionary = load_dictionary(knowledge.dictionary_dir, guides.values())
    for bundle_id in ("kaiban_canyindian", "qiye_kaiban"):
        bundle = load_bundles(knowledge.bundles_dir, guides).get(bundle_id)
        assert bundle is not None
        premises = [m for m in plan_bundle(bundle, guides, dictionary).materials if "使用相关文件" in m.name]
        assert premises and all(m.to_bring and m.deferrable for m in premises), bundle_id
