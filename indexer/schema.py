"""The one schema every 办事指南 file under knowledge/guides/ must follow.

Field names are English so code reads naturally; every value is the Chinese text
a resident sees. The elements follow Guizhou's unified 办事指南 template
(遵府办发〔2017〕39号 item 12): 基本信息、设定依据、申请条件、申请材料、特殊环节、
办理流程、办理人员(窗口)、收费标准、注意事项.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SAMPLE_NOTICE = "示例数据，以贵州政务服务网公布为准"

NonEmptyText = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a guide must not silently vanish."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ServiceType(str, Enum):
    licensing = "行政许可"
    confirmation = "行政确认"
    benefit = "行政给付"
    levy = "行政征收"
    ruling = "行政裁决"
    registration = "行政登记"
    other_power = "其他行政权力"
    public_service = "公共服务"


class MaterialForm(str, Enum):
    original = "原件"
    copy = "复印件"
    original_and_copy = "原件和复印件"
    electronic = "电子材料"
    form = "填写表格"


class Material(Strict):
    name: NonEmptyText
    basis: NonEmptyText = Field(description="依据：要求该材料的法规或规范性文件条款")
    form: MaterialForm = Field(description="格式：原件/复印件 …")
    copies: int = Field(ge=0, le=20, description="份数；0 表示只需查验、不收取")
    signature: NonEmptyText = Field(description="签名签章要求，不需要时写“无”")
    required: bool = True
    condition: str | None = Field(default=None, description="非必须材料在什么情形下需要")
    e_license: bool = Field(default=False, description="可用电子证照替代，无需带实体")
    deferrable: bool = Field(default=False, description="可容缺受理，办结前补交")
    template_available: bool = Field(default=False, description="提供格式文本/示范文本下载")
    note: str | None = None

    @model_validator(mode="after")
    def _optional_needs_condition(self) -> Material:
        if not self.required and not self.condition:
            raise ValueError("非必须材料(required: false)须写明 condition")
        return self


class RuleField(str, Enum):
    """Facts the eligibility form can ask a resident; the dialogue layer knows how to ask each."""

    age = "age"
    gender = "gender"
    local_hukou = "local_hukou"
    residence_months = "residence_months"
    monthly_income_per_capita = "monthly_income_per_capita"
    has_local_housing = "has_local_housing"
    disability_grade = "disability_grade"
    employed = "employed"
    insured_months = "insured_months"
    days_since_birth = "days_since_birth"
    days_to_expiry = "days_to_expiry"
    members = "members"
    unit_members = "unit_members"
    married = "married"


RuleOp = Literal["==", "!=", ">=", "<=", ">", "<", "in", "not in"]
RuleValue = bool | int | float | str | list[str] | list[int]


class Condition(Strict):
    field: RuleField
    op: RuleOp
    value: RuleValue


class EligibilityRule(Condition):
    """A machine-checkable 申请条件, with the text quoted back to the resident."""

    text: NonEmptyText
    when: list[Condition] = Field(default_factory=list, description="仅当这些条件成立时本规则才适用")


class Step(Strict):
    name: NonEmptyText
    description: NonEmptyText


class Hall(Strict):
    name: NonEmptyText
    address: NonEmptyText
    window: NonEmptyText
    hours: NonEmptyText
    phone: NonEmptyText


class TimeLimits(Strict):
    legal_days: int | None = Field(ge=0, description="法定办结时限(工作日)；null 表示法律未规定")
    promised_days: int = Field(ge=0, description="承诺办结时限(工作日)；0 表示即办")
    note: str | None = None

    @model_validator(mode="after")
    def _promise_within_law(self) -> TimeLimits:
        if self.legal_days is not None and self.promised_days > self.legal_days:
            raise ValueError("承诺办结时限不能超过法定办结时限")
        return self


class Fees(Strict):
    charged: bool
    standard: NonEmptyText
    basis: str | None = None


class BenefitLevel(Strict):
    who: NonEmptyText = Field(description="哪一档、哪些人，如“80—89周岁”“城市低保”")
    amount: NonEmptyText = Field(description="领多少，如“每人每月50元”")


class Benefits(Strict):
    """待遇标准: what a resident receives (补贴、保障金), as opposed to the fee they pay (收费标准)."""

    levels: list[BenefitLevel] = Field(min_length=1)
    how_paid: str | None = Field(default=None, description="怎么发、什么时候发")
    note: str | None = Field(default=None, description="例如“按差额补足”“以县级民政部门核定为准”")


class Online(Strict):
    fully_online: bool
    url: str | None = None
    how: str | None = Field(default=None, description="网上怎么办：平台、入口")


class Faq(Strict):
    q: NonEmptyText
    a: NonEmptyText


class Situation(Strict):
    """One 情形 a service covers (失业保险金申领: 被单位辞退、合同到期不续签 …).

    ``says`` are the ways residents describe it without naming the service; they are indexed
    so a question that only tells the story still finds the guide and the situation."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$")]
    name: NonEmptyText = Field(description="情形名称，如“被单位辞退”")
    says: list[NonEmptyText] = Field(min_length=3, description="群众的口语说法（不含事项名称也能认出）")
    guidance: NonEmptyText = Field(description="这种情形怎么办、和一般情况有什么不同")
    extra_conditions: list[NonEmptyText] = Field(default_factory=list, description="这种情形另外要满足的条件")
    extra_materials: list[Material] = Field(default_factory=list, description="这种情形另外要带的材料")


class Guide(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$")]
    name: NonEmptyText = Field(description="事项名称（全市唯一）")
    code: NonEmptyText = Field(description="事项编码")
    type: ServiceType = Field(description="事项类型")
    department: NonEmptyText = Field(description="实施主体")
    sample_notice: str | None = Field(default=None, description="示例数据须注明 " + SAMPLE_NOTICE)
    summary: NonEmptyText = Field(description="基本信息：事项是什么、谁来办")
    aliases: list[NonEmptyText] = Field(description="俗称、口语和旧称")
    legal_basis: list[NonEmptyText] = Field(min_length=1, description="设定依据")
    conditions: list[NonEmptyText] = Field(min_length=1, description="申请条件")
    eligibility_rules: list[EligibilityRule] = Field(default_factory=list)
    materials: list[Material] = Field(min_length=1, description="申请材料")
    special_steps: list[NonEmptyText] = Field(min_length=1, description="特殊环节；没有时写“无”")
    process: list[Step] = Field(min_length=1, description="办理流程")
    handler: NonEmptyText = Field(description="办理人员(窗口)：由哪个科室/窗口受理、审核")
    time_limits: TimeLimits
    fees: Fees
    benefits: Benefits | None = Field(default=None, description="待遇标准：补贴、保障金领多少")
    halls: list[Hall] = Field(min_length=1)
    online: Online
    max_visits: int = Field(ge=0, le=2, description="最多跑几次；实施方案要求不超过2次")
    notes: list[NonEmptyText] = Field(min_length=1, description="注意事项")
    faqs: list[Faq] = Field(min_length=1)
    situations: list[Situation] = Field(default_factory=list, description="情形：智能导办按情形分别说明")
    updated: dt.date

    @field_validator("aliases")
    @classmethod
    def _aliases_distinct(cls, aliases: list[str]) -> list[str]:
        if len(set(aliases)) != len(aliases):
            raise ValueError("别名有重复")
        return aliases

    @field_validator("situations")
    @classmethod
    def _situation_ids_distinct(cls, situations: list[Situation]) -> list[Situation]:
        ids = [situation.id for situation in situations]
        if len(set(ids)) != len(ids):
            raise ValueError("情形 id 有重复")
        return situations

    def situation(self, situation_id: str) -> Situation | None:
        return next((s for s in self.situations if s.id == situation_id), None)

    @property
    def is_sample(self) -> bool:
        return self.sample_notice is not None
