"""The service centre's workbench: analytics turns from Rasa's event broker and the ingester's
cursor, the answer a complaint refers to, halls that no longer offer a service, the 数据 role.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TURN_KINDS = ("answered", "clarified", "fallback", "out_of_scope", "form_step", "handoff", "other")
REVIEW_OUTCOMES = ("alias", "faq", "out_of_scope", "intent", "dismissed")


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    op.create_table(
        "analytics_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("turn_id", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("guide_id", sa.String(length=64), nullable=True),
        sa.Column("section", sa.String(length=24), nullable=True),
        sa.Column("situation", sa.String(length=100), nullable=True),
        sa.Column("kind", _enum(TURN_KINDS, "turn_kind"), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("district", sa.String(length=50), nullable=True),
        sa.Column("review", _enum(REVIEW_OUTCOMES, "review_outcome"), nullable=True),
        sa.Column("review_detail", sa.String(length=200), nullable=True),
        sa.Column("reviewed_by", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_turns")),
        sa.UniqueConstraint("turn_id", name=op.f("uq_analytics_turns_turn_id")),
    )
    op.create_index("ix_analytics_turns_at", "analytics_turns", ["at"])
    op.create_index("ix_analytics_turns_kind_at", "analytics_turns", ["kind", "at"])
    op.create_index("ix_analytics_turns_guide_at", "analytics_turns", ["guide_id", "at"])
    op.create_index("ix_analytics_turns_sender_at", "analytics_turns", ["sender", "at"])
    op.create_table(
        "analytics_cursors",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_analytics_cursors")),
    )
    # Native ADD COLUMN on both backends: a batch copy of these tables on SQLite would trip the
    # foreign keys that appointments and slot counters hold on them.
    op.add_column("complaints", sa.Column("turn_id", sa.String(length=64), nullable=True))
    op.create_index("ix_complaints_turn_id", "complaints", ["turn_id"])
    op.add_column(
        "hall_services", sa.Column("offered", sa.Boolean(), nullable=False, server_default=sa.true())
    )


def downgrade() -> None:
    op.drop_column("hall_services", "offered")
    op.drop_index("ix_complaints_turn_id", table_name="complaints")
    op.drop_column("complaints", "turn_id")
    op.drop_table("analytics_cursors")
    op.drop_index("ix_analytics_turns_sender_at", table_name="analytics_turns")
    op.drop_index("ix_analytics_turns_guide_at", table_name="analytics_turns")
    op.drop_index("ix_analytics_turns_kind_at", table_name="analytics_turns")
    op.drop_index("ix_analytics_turns_at", table_name="analytics_turns")
    op.drop_table("analytics_turns")
