"""Web sign-in: a password hash per user (kept in its own table, so no query of ``users`` ever
returns it) and the server-side web sessions (a session ends for good at sign-out or expiry,
whatever a stolen cookie says).

Revision ID: 0003_web_credentials
Revises: 0002_time_series_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_web_credentials"
down_revision = "0002_time_series_indexes"
branch_labels = None
depends_on = None


def _user() -> sa.Column:
    return sa.Column(
        "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "user_credentials",
        sa.Column("id", sa.Integer(), primary_key=True),
        _user(),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", name="uq_user_credentials_user"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        _user(),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])


def downgrade() -> None:
    raise NotImplementedError("stimwise never downgrades a records database")
