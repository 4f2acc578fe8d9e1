"""代办 requests keep the phone sealed while open, so staff can call the resident back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agency_requests") as batch:
        batch.add_column(sa.Column("phone_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agency_requests") as batch:
        batch.drop_column("phone_sealed")
