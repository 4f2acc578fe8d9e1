"""代办 requests (issue 14 part 4): a village or community agent does the errand for a resident.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 03:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AGENCY_STATUSES = ("received", "assigned", "in_progress", "done", "cancelled")


def upgrade() -> None:
    op.create_table(
        "agency_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sa.String(length=32), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=True),
        sa.Column("bundle_id", sa.String(length=64), nullable=True),
        sa.Column("subject_name", sa.String(length=100), nullable=False),
        sa.Column("name_masked", sa.String(length=60), nullable=False),
        sa.Column("phone_masked", sa.String(length=11), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("district", sa.String(length=50), nullable=False),
        sa.Column("town", sa.String(length=50), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *AGENCY_STATUSES, name="agency_status", native_enum=False, create_constraint=True, length=24
            ),
            nullable=False,
        ),
        sa.Column("agent", sa.String(length=60), nullable=True),
        sa.Column("staff_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "(service_id IS NULL) <> (bundle_id IS NULL)", name=op.f("ck_agency_requests_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service_items.id"], name=op.f("fk_agency_requests_service_id_service_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_requests")),
        sa.UniqueConstraint("tracking_number", name=op.f("uq_agency_requests_tracking_number")),
    )
    op.create_index("ix_agency_requests_status_created", "agency_requests", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_agency_requests_status_created", table_name="agency_requests")
    op.drop_table("agency_requests")
