"""The schema of a 一件事一次办 bundle: one life event (新生儿出生、开办餐饮店…) over several guides.

A bundle names its member guides by id, the order between them (``depends_on``), what each
step yields for the later ones (``produces``: the 出生医学证明 step 1 issues is not brought to
step 2) and the words residents use for the event. Everything a resident is told about
materials, time and visits is computed from the member guides (``indexer.bundle_plan``), so a
guide edited once is right in every bundle that uses it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator

from indexer.schema import NonEmptyText, Strict

GRAPH_CHECKED_BY_CALLER = "graph_checked_by_caller"

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$")]


class BundleStep(Strict):
    id: Slug
    guide: Slug = Field(description="成员事项：knowledge/guides 下的指南 id")
    title: NonEmptyText = Field(description="这一步的简短标题，如“办出生医学证明”")
    depends_on: list[Slug] = Field(
        default_factory=list, description="须先办完的步骤 id；互不依赖的步骤可并行办理"
    )
    produces: list[NonEmptyText] = Field(
        default_factory=list, description="这一步取得的证照；后面的步骤要用时不必另带"
    )
    situation: Slug | None = Field(
        default=None,
        description="这件事里该事项通常属于的情形（指南 situations 的 id）：另需材料并入清单，按它答这一步",
    )
    when: str | None = Field(default=None, description="按需办理：什么情形才办这一步；不写表示都要办")
    choice: str | None = Field(default=None, description="同一 choice 的几个步骤任选其一，如“经营主体”")
    note: str | None = None

    @field_validator("depends_on")
    @classmethod
    def _dependencies_distinct(cls, depends_on: list[str]) -> list[str]:
        if len(set(depends_on)) != len(depends_on):
            raise ValueError("依赖的步骤有重复")
        return depends_on


class Bundle(Strict):
    id: Slug
    name: NonEmptyText = Field(description="一件事的名称，如“新生儿出生一件事”")
    sample_notice: NonEmptyText = Field(description="示例数据须注明“示例数据，以贵州政务服务网公布为准”")
    aliases: list[NonEmptyText] = Field(min_length=1, description="俗称和口语叫法，如“生娃娃”“开个饭馆”")
    says: list[NonEmptyText] = Field(min_length=3, description="群众会怎么说这件事（不含事项名称也能认出）")
    lead: NonEmptyText = Field(description="一两句话的导语：这件事要办哪些、怎么办最省事")
    steps: list[BundleStep] = Field(min_length=2)
    notes: list[NonEmptyText] = Field(min_length=1, description="注意事项")
    updated: dt.date

    @field_validator("aliases")
    @classmethod
    def _aliases_distinct(cls, aliases: list[str]) -> list[str]:
        if len(set(aliases)) != len(aliases):
            raise ValueError("别名有重复")
        return aliases

    @model_validator(mode="after")
    def _steps_form_a_plan(self, info: ValidationInfo) -> Bundle:
        """The loader passes ``{"graph_checked_by_caller": True}`` and reports each problem
        under its own field with ``step_problems``; any other caller gets them all at once."""
        if info.context and info.context.get(GRAPH_CHECKED_BY_CALLER):
            return self
        problems = step_problems(self)
        if problems:
            raise ValueError("；".join(f"{field}: {message}" for field, message in problems))
        return self

    def step(self, step_id: str) -> BundleStep | None:
        return next((s for s in self.steps if s.id == step_id), None)


def step_problems(bundle: Bundle) -> list[tuple[str, str]]:
    """(field, message) for every way the steps fail to form a plan: duplicates, dependencies on
    missing steps, half-chosen alternatives, cycles."""
    problems = [*_duplicates(bundle), *_unknown_dependencies(bundle), *_choice_problems(bundle)]
    if not problems:
        cycle = _cycle(bundle)
        if cycle:
            problems.append(("steps", "步骤依赖成环：" + " → ".join(cycle)))
    return problems


def _duplicates(bundle: Bundle) -> list[tuple[str, str]]:
    problems = []
    seen_ids: set[str] = set()
    seen_guides: dict[str, str] = {}
    for index, s in enumerate(bundle.steps):
        if s.id in seen_ids:
            problems.append((f"steps.{index}.id", f"步骤 id“{s.id}”重复"))
        if s.guide in seen_guides:
            first = seen_guides[s.guide]
            problems.append((f"steps.{index}.guide", f"事项“{s.guide}”已在步骤“{first}”中出现"))
        seen_ids.add(s.id)
        seen_guides.setdefault(s.guide, s.id)
    return problems


def _unknown_dependencies(bundle: Bundle) -> list[tuple[str, str]]:
    ids = {s.id for s in bundle.steps}
    return [
        (f"steps.{index}.depends_on", f"依赖的步骤“{dep}”不存在")
        for index, s in enumerate(bundle.steps)
        for dep in s.depends_on
        if dep not in ids
    ]


def _choice_problems(bundle: Bundle) -> list[tuple[str, str]]:
    groups: dict[str, set[str]] = {}
    for s in bundle.steps:
        if s.choice:
            groups.setdefault(s.choice, set()).add(s.id)
    problems = [
        (f"steps.{index}.choice", f"任选其一“{s.choice}”只有这一个步骤")
        for index, s in enumerate(bundle.steps)
        if s.choice and len(groups[s.choice]) < 2
    ]
    for index, s in enumerate(bundle.steps):
        for name, members in groups.items():
            chosen = members & set(s.depends_on)
            if chosen and chosen != members:
                listed = "、".join(sorted(members))
                problems.append((f"steps.{index}.depends_on", f"须依赖“{name}”的全部可选步骤（{listed}）"))
    return problems


def _cycle(bundle: Bundle) -> list[str]:
    """One dependency cycle as step ids (the first repeated at the end), or [] when there is none."""
    depends = {s.id: s.depends_on for s in bundle.steps}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(step_id: str) -> list[str]:
        state[step_id] = 1
        path.append(step_id)
        for dep in depends[step_id]:
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[step_id] = 2
        return []

    for s in bundle.steps:
        if s.id not in state:
            found = visit(s.id)
            if found:
                return found
    return []
