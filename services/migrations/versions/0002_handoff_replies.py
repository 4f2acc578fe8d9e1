"""Agents' replies to handoff conversations (the web widget's inbox).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 21:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handoff_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("agent", sa.String(length=60), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name=op.f("fk_handoff_replies_handoff_id_handoffs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_replies")),
    )
    with op.batch_alter_table("handoff_replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_replies_handoff_id"), ["handoff_id"], unique=False)
        batch_op.create_index("ix_handoff_replies_sender_id_id", ["sender_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handoff_replies", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_replies_sender_id_id")
        batch_op.drop_index(batch_op.f("ix_handoff_replies_handoff_id"))
    op.drop_table("handoff_replies")
