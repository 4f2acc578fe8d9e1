"""Staff accounts and sessions, the audit log's hash chain, handoff transcripts as rows, and
holds for personal identifiers while a form runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 23:00:00
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=60), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("login", name=op.f("uq_staff_accounts_login")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["staff_accounts.id"], name=op.f("fk_staff_sessions_account_id_staff_accounts")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index(op.f("ix_staff_sessions_account_id"), "staff_sessions", ["account_id"], unique=False)
    op.create_table(
        "personal_data_holds",
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("conversation_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_personal_data_holds")),
    )
    op.create_index(
        op.f("ix_personal_data_holds_conversation_hash"), "personal_data_holds", ["conversation_hash"]
    )
    op.create_index(op.f("ix_personal_data_holds_expires_at"), "personal_data_holds", ["expires_at"])

    # Audit rows written before this revision stay unchained; verification starts at the first
    # chained row and refuses an unchained row after it.
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))

    lines = op.create_table(
        "handoff_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name=op.f("fk_handoff_lines_handoff_id_handoffs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_lines")),
    )
    op.create_index("ix_handoff_lines_handoff_id_id", "handoff_lines", ["handoff_id", "id"])
    _copy_transcripts(lines)
    # Native DROP COLUMN (SQLite >= 3.35): a batch copy of handoffs would trip the foreign keys
    # of handoff_replies and handoff_lines, which SQLite enforces inside the migration.
    op.execute("ALTER TABLE handoffs DROP COLUMN transcript")


def _copy_transcripts(lines: sa.Table) -> None:
    connection = op.get_bind()
    handoffs = sa.table("handoffs", sa.column("id", sa.Integer()), sa.column("transcript", sa.JSON()))
    rows = []
    for handoff_id, transcript in connection.execute(sa.select(handoffs.c.id, handoffs.c.transcript)):
        for message in transcript or []:
            at = message.get("at")
            rows.append(
                {
                    "handoff_id": handoff_id,
                    "role": str(message.get("role", "user"))[:8],
                    "text": str(message.get("text", "")),
                    "at": dt.datetime.fromisoformat(at) if isinstance(at, str) else None,
                }
            )
    if rows:
        op.bulk_insert(lines, rows)


def downgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transcript", sa.JSON(), nullable=False, server_default="[]"))
    op.drop_index("ix_handoff_lines_handoff_id_id", table_name="handoff_lines")
    op.drop_table("handoff_lines")
    # Native DROP COLUMN: a batch copy of audit_log on SQLite would lose its append-only triggers.
    op.execute("ALTER TABLE audit_log DROP COLUMN row_hash")
    op.execute("ALTER TABLE audit_log DROP COLUMN prev_hash")
    op.drop_index(op.f("ix_personal_data_holds_expires_at"), table_name="personal_data_holds")
    op.drop_index(op.f("ix_personal_data_holds_conversation_hash"), table_name="personal_data_holds")
    op.drop_table("personal_data_holds")
    op.drop_index(op.f("ix_staff_sessions_account_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_accounts")
