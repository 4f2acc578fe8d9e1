"""What a bundle means for a resident, computed from its member guides: the steps in a valid
order and which can run side by side, the critical path in working days (each guide's
承诺办结时限, 即办 = 0), how many times to go to a hall, and one merged materials list.

Pure functions: the dialogue, the widget and the console all render the same ``BundlePlan``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from indexer.bundle_materials import MaterialNames, MergedMaterial, StepMaterials, merge_materials
from indexer.bundle_schema import Bundle, BundleStep
from indexer.dictionary import DomainDictionary
from indexer.schema import Guide, Material, Situation


class BundlePlanError(ValueError):
    """The requested plan cannot be made (unknown guide, step or choice); worded for the resident's helper."""


@dataclass(frozen=True)
class PlannedStep:
    number: int
    step: BundleStep
    guide: Guide
    after: tuple[int, ...]
    parallel_with: tuple[int, ...]
    start_day: int
    finish_day: int
    critical: bool

    @property
    def days(self) -> int:
        return self.guide.time_limits.promised_days

    @property
    def situation(self) -> Situation | None:
        """The guide's situation this event usually is (新生儿 for 医保参保), if the bundle names one."""
        return self.guide.situation(self.step.situation) if self.step.situation else None

    @property
    def materials(self) -> list[Material]:
        """What the step asks for: the guide's list plus its situation's extra materials."""
        extra = self.situation.extra_materials if self.situation is not None else []
        return [*self.guide.materials, *extra]

    @property
    def fully_online(self) -> bool:
        return self.guide.online.fully_online

    @property
    def visits(self) -> int:
        """Hall visits this step needs: none when it can be done entirely online."""
        return 0 if self.fully_online else self.guide.max_visits


@dataclass(frozen=True)
class BundlePlan:
    bundle: Bundle
    steps: tuple[PlannedStep, ...]
    materials: tuple[MergedMaterial, ...]
    critical_path: tuple[int, ...]
    left_out: tuple[str, ...]

    @property
    def total_days(self) -> int:
        """Promised working days for the whole event: the longest chain of dependent steps."""
        return max((s.finish_day for s in self.steps), default=0)

    @property
    def hall_visits(self) -> int:
        return sum(s.visits for s in self.steps)

    @property
    def online_steps(self) -> tuple[int, ...]:
        return tuple(s.number for s in self.steps if s.fully_online)

    @property
    def stages(self) -> tuple[tuple[int, ...], ...]:
        """Steps grouped by how soon they can start: everything in one stage can run in parallel."""
        depth: dict[int, int] = {}
        for s in self.steps:
            depth[s.number] = 1 + max((depth[a] for a in s.after), default=-1)
        return tuple(
            tuple(n for n, d in depth.items() if d == level)
            for level in range(max(depth.values(), default=-1) + 1)
        )

    def step(self, number: int) -> PlannedStep:
        return self.steps[number - 1]


def plan_bundle(
    bundle: Bundle,
    guides: Mapping[str, Guide],
    dictionary: DomainDictionary,
    *,
    choices: Mapping[str, str] | None = None,
    skip: Collection[str] = (),
) -> BundlePlan:
    """The plan for ``bundle``. ``choices`` picks one step per 任选其一 group (default: the first
    listed); ``skip`` leaves out 按需 steps (those with ``when``) the resident does not need.
    A left-out step's dependents wait for what it waited for."""
    left_out = _left_out(bundle, choices or {}, skip)
    kept = [s for s in bundle.steps if s.id not in left_out]
    missing = [s.guide for s in kept if s.guide not in guides]
    if missing:
        raise BundlePlanError(f"“{bundle.name}”用到的办事指南不存在：{'、'.join(missing)}")
    depends = {s.id: _resolved_dependencies(bundle, s, left_out) for s in kept}
    order = _topological(kept, depends)
    number = {s.id: index for index, s in enumerate(order, 1)}
    ancestors = _ancestors(order, depends)

    finish: dict[str, int] = {}
    for s in order:
        start = max((finish[d] for d in depends[s.id]), default=0)
        finish[s.id] = start + guides[s.guide].time_limits.promised_days
    critical_path = _critical_path(order, depends, finish)

    names = MaterialNames.from_dictionary(dictionary)
    steps = tuple(
        PlannedStep(
            number=number[s.id],
            step=s,
            guide=guides[s.guide],
            after=tuple(sorted(number[d] for d in depends[s.id])),
            parallel_with=tuple(
                number[o.id]
                for o in order
                if o.id != s.id and o.id not in ancestors[s.id] and s.id not in ancestors[o.id]
            ),
            start_day=finish[s.id] - guides[s.guide].time_limits.promised_days,
            finish_day=finish[s.id],
            critical=s.id in critical_path,
        )
        for s in order
    )
    materials = merge_materials(
        [
            StepMaterials(
                number=p.number,
                title=p.step.title,
                materials=p.materials,
                earlier_outputs=_outputs(bundle, ancestors[p.step.id], number, names),
                when=p.step.when,
            )
            for p in steps
        ],
        names,
    )
    return BundlePlan(
        bundle=bundle,
        steps=steps,
        materials=materials,
        critical_path=tuple(number[i] for i in critical_path),
        left_out=tuple(s.id for s in bundle.steps if s.id in left_out),
    )


def _left_out(bundle: Bundle, choices: Mapping[str, str], skip: Collection[str]) -> set[str]:
    groups: dict[str, list[str]] = {}
    for s in bundle.steps:
        if s.choice:
            groups.setdefault(s.choice, []).append(s.id)
    for group, chosen in choices.items():
        if group not in groups:
            raise BundlePlanError(f"“{bundle.name}”没有“{group}”这个任选项")
        if chosen not in groups[group]:
            raise BundlePlanError(f"“{chosen}”不是“{group}”的可选步骤（可选：{'、'.join(groups[group])}）")
    left_out = {
        member
        for group, members in groups.items()
        for member in members
        if member != choices.get(group, members[0])
    }
    for step_id in skip:
        step = bundle.step(step_id)
        if step is None:
            raise BundlePlanError(f"“{bundle.name}”没有步骤“{step_id}”")
        if step.when is None:
            raise BundlePlanError(f"“{step.title}”是这件事必办的步骤，不能省略")
        left_out.add(step_id)
    return left_out


def _resolved_dependencies(bundle: Bundle, step: BundleStep, left_out: set[str]) -> tuple[str, ...]:
    resolved: list[str] = []
    pending = list(step.depends_on)
    while pending:
        dep = pending.pop(0)
        if dep in left_out:
            skipped = bundle.step(dep)
            assert skipped is not None
            pending += skipped.depends_on
        elif dep not in resolved:
            resolved.append(dep)
    return tuple(resolved)


def _topological(steps: list[BundleStep], depends: Mapping[str, tuple[str, ...]]) -> list[BundleStep]:
    """Kahn's order, taking ready steps in the order the bundle lists them (so the numbering
    follows the author's order wherever the dependencies allow)."""
    done: set[str] = set()
    order: list[BundleStep] = []
    while len(order) < len(steps):
        ready = next(s for s in steps if s.id not in done and all(d in done for d in depends[s.id]))
        order.append(ready)
        done.add(ready.id)
    return order


def _ancestors(order: list[BundleStep], depends: Mapping[str, tuple[str, ...]]) -> dict[str, set[str]]:
    ancestors: dict[str, set[str]] = {}
    for s in order:
        ancestors[s.id] = set(depends[s.id]).union(*(ancestors[d] for d in depends[s.id]))
    return ancestors


def _critical_path(
    order: list[BundleStep], depends: Mapping[str, tuple[str, ...]], finish: Mapping[str, int]
) -> list[str]:
    """The chain of steps that decides the total: from the last step to finish back through the
    dependency that finishes latest (on a tie, the later step: the longer chain of 即办 steps)."""
    if not order:
        return []
    current: str | None = max(reversed(order), key=lambda s: finish[s.id]).id
    path: list[str] = []
    while current is not None:
        path.append(current)
        current = max(reversed(depends[current]), key=finish.__getitem__, default=None)
    return path[::-1]


def _outputs(
    bundle: Bundle, earlier: set[str], number: Mapping[str, int], names: MaterialNames
) -> dict[str, int]:
    """Document key → number of the earliest earlier step that issues it."""
    outputs: dict[str, int] = {}
    for s in sorted((s for s in bundle.steps if s.id in earlier), key=lambda s: number[s.id]):
        for produced in s.produces:
            for key in names.keys(produced):
                outputs.setdefault(key, number[s.id])
    return outputs
