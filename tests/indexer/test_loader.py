"""Schema validation: every problem names its file and field, and never stops the other guides."""

from __future__ import annotations

from pathlib import Path

import yaml

from core.settings import KnowledgeSettings
from indexer.loader import load_guides


def _edit(path: Path, change: dict) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(change)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_all_sample_guides_are_valid_and_marked_as_sample() -> None:
    from core.settings import get_settings

    knowledge = get_settings().knowledge
    result = load_guides(knowledge.guides_dir, knowledge.halls_file)
    assert result.problems == ()
    assert len(result.guides) >= 40
    assert all(g.guide.sample_notice == "示例数据，以贵州政务服务网公布为准" for g in result.guides)


def test_the_forty_required_services_exist_with_exact_names() -> None:
    from core.settings import get_settings

    required = [
        "个体工商户设立登记",
        "有限责任公司设立登记",
        "企业变更登记",
        "企业简易注销登记",
        "企业年度报告公示",
        "食品经营许可证核发",
        "企业投资项目备案",
        "建筑工程施工许可证核发",
        "烟花爆竹经营(零售)许可证核发",
        "增值税发票申领",
        "个人所得税综合所得汇算清缴",
        "居民身份证换领补领",
        "出生登记(新生儿入户)",
        "户口迁移(迁入)",
        "居住证申领",
        "城乡居民基本养老保险参保登记",
        "城乡居民基本医疗保险参保缴费",
        "失业保险金申领",
        "就业创业证申领",
        "社会保障卡申领",
        "最低生活保障申请",
        "特困人员救助供养申请",
        "高龄补贴申领",
        "老年人优待证办理",
        "结婚登记",
        "社会团体成立登记",
        "残疾人证办理",
        "困难残疾人生活补贴和重度残疾人护理补贴申请",
        "公共租赁住房申请",
        "住房公积金提取",
        "不动产登记(转移登记)",
        "义务教育入学登记",
        "出生医学证明办理",
        "生育登记",
        "农机购置补贴申请",
        "林木采伐许可证核发",
        "乡村建设规划许可证核发",
        "居住证明开具",
        "机动车驾驶证换证",
        "普通护照签发",
    ]
    knowledge = get_settings().knowledge
    names = {g.guide.name for g in load_guides(knowledge.guides_dir, knowledge.halls_file).guides}
    assert set(required) <= names


def test_broken_yaml_is_reported_and_the_rest_still_load(knowledge_copy: KnowledgeSettings) -> None:
    bad = knowledge_copy.guides_dir / "broken.yaml"
    bad.write_text("id: broken\nname: [unclosed\n", encoding="utf-8")
    result = load_guides(knowledge_copy.guides_dir, knowledge_copy.halls_file)
    assert [p.file.name for p in result.problems] == ["broken.yaml"]
    assert "YAML" in result.problems[0].message
    assert len(result.guides) == 4


def test_missing_field_names_file_and_field(knowledge_copy: KnowledgeSettings) -> None:
    path = knowledge_copy.guides_dir / "gaoling_butie.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["fees"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = load_guides(knowledge_copy.guides_dir, knowledge_copy.halls_file)
    assert [str(p) for p in result.problems] == ["gaoling_butie.yaml: fees: Field required（missing）"]
    assert "gaoling_butie" not in {g.guide.id for g in result.guides}


def test_unknown_flag_on_a_material_is_an_error(knowledge_copy: KnowledgeSettings) -> None:
    path = knowledge_copy.guides_dir / "gaoling_butie.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["materials"][1]["can_email"] = True
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (problem,) = load_guides(knowledge_copy.guides_dir, knowledge_copy.halls_file).problems
    assert problem.field == "materials.1.can_email"
    assert problem.file.name == "gaoling_butie.yaml"


def test_visits_above_the_plans_cap_of_two_are_rejected(knowledge_copy: KnowledgeSettings) -> None:
    _edit(knowledge_copy.guides_dir / "gaoling_butie.yaml", {"max_visits": 3})
    (problem,) = load_guides(knowledge_copy.guides_dir, knowledge_copy.halls_file).problems
    assert problem.field == "max_visits"


def test_duplicate_service_name_is_rejected(knowledge_copy: KnowledgeSettings) -> None:
    source = knowledge_copy.guides_dir / "gaoling_butie.yaml"
    copy = knowledge_copy.guides_dir / "gaoling_butie_copy.yaml"
    copy.write_text(
        source.read_text(encoding="utf-8").replace("id: gaoling_butie", "id: gaoling_butie_copy"),
        encoding="utf-8",
    )
    problems = load_guides(knowledge_copy.guides_dir, knowledge_copy.halls_file).problems
    assert any(p.field == "name" and "重复" in p.message for p in problems)


def test_hall_that_disagrees_with_halls_yaml_is_reported(knowledge_copy: KnowledgeSettings) -> None:
    path = knowledge_copy.guides_dir / "gaoling_butie.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["halls"][0]["phone"] = "0851-00000000"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (problem,) = load_guides(knowledge_copy.guides_dir, knowledge_copy.halls_file).problems
    assert problem.field == "halls.0.phone"
