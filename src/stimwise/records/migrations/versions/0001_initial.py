"""Initial records schema: patients and their separable identities, users and roles, intakes
with screenings, instrument scores, prescriptions, sessions, diary entries, adverse events and the
append-only audit log (UPDATE and DELETE refused by triggers).

Revision ID: 0001_initial
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_AUDIT_GUARDS_SQLITE = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
_AUDIT_GUARDS_POSTGRESQL = (
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
)


def _instant(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _patient(index: bool = True) -> sa.Column:
    return sa.Column(
        "patient_id",
        sa.Integer(),
        sa.ForeignKey("patients.id", ondelete="CASCADE"),
        nullable=False,
        index=index,
    )


def upgrade() -> None:
    op.create_table(
        "patients",
        _id(),
        sa.Column("pseudonym", sa.String(40), nullable=False, unique=True),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        _instant("created_at"),
    )
    op.create_table(
        "patient_identities",
        _id(),
        sa.Column(
            "patient_id",
            sa.Integer(),
            sa.ForeignKey("patients.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("contact", sa.String(300), nullable=True),
    )
    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.String(80), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column(
            "patient_id",
            sa.Integer(),
            sa.ForeignKey("patients.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
        _instant("created_at"),
    )
    op.create_table(
        "intakes",
        _id(),
        _patient(),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("intake", sa.JSON(), nullable=False),
        sa.Column("screening", sa.JSON(), nullable=False),
        sa.Column("rules_version", sa.String(80), nullable=False),
        sa.Column("decision", sa.String(40), nullable=False),
        _instant("created_at"),
    )
    op.create_table(
        "instrument_scores",
        _id(),
        _patient(),
        sa.Column("instrument", sa.String(40), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("max_total", sa.Float(), nullable=True),
        sa.Column("positive", sa.Boolean(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("score", sa.JSON(), nullable=False),
        _instant("created_at"),
    )
    op.create_table(
        "prescriptions",
        _id(),
        _patient(),
        sa.Column("protocol_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False, index=True),
        sa.Column("prescription", sa.JSON(), nullable=False),
        sa.Column("caps", sa.JSON(), nullable=True),
        sa.Column("locked_ranges", sa.JSON(), nullable=True),
        sa.Column("home_use", sa.Boolean(), nullable=False),
        sa.Column("frequency_hz", sa.Float(), nullable=True),
        sa.Column("phase_width_us", sa.Float(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("prescribed_by", sa.String(80), nullable=False),
        _instant("created_at"),
    )
    op.create_table(
        "sessions",
        _id(),
        _patient(index=False),
        sa.Column(
            "prescription_id",
            sa.Integer(),
            sa.ForeignKey("prescriptions.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Column("protocol_id", sa.String(64), nullable=False),
        sa.Column("plan_fingerprint", sa.String(64), nullable=False),
        sa.Column("device", sa.String(120), nullable=False),
        _instant("started_at"),
        _instant("ended_at", nullable=True),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("stimulation_s", sa.Float(), nullable=False),
        sa.Column("max_amplitude_ma", sa.Float(), nullable=False),
        sa.Column("mean_amplitude_ma", sa.Float(), nullable=False),
        sa.Column("max_charge_per_phase_uc", sa.Float(), nullable=False),
        sa.Column("frequency_hz", sa.Float(), nullable=True),
        sa.Column("phase_width_us", sa.Float(), nullable=True),
        sa.Column("minutes_at_amplitude", sa.JSON(), nullable=False),
        sa.Column("calibration", sa.JSON(), nullable=True),
        sa.Column("habituation_increases", sa.Integer(), nullable=False),
        sa.Column("nrs_pre", sa.Integer(), nullable=True),
        sa.Column("nrs_post", sa.Integer(), nullable=True),
        sa.Column("skin_pre", sa.String(40), nullable=True),
        sa.Column("skin_post", sa.String(40), nullable=True),
        sa.Column("faults", sa.JSON(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("journal_ref", sa.String(500), nullable=True),
        sa.Column("journal_sha256", sa.String(64), nullable=True, unique=True),
        _instant("created_at"),
        sa.UniqueConstraint(
            "patient_id", "plan_fingerprint", "started_at", name="uq_session_start"
        ),
    )
    op.create_table(
        "diary_entries",
        _id(),
        sa.Column("entry_uuid", sa.String(36), nullable=False, unique=True),
        _patient(),
        _instant("recorded_at"),
        sa.Column("body_site", sa.String(60), nullable=True),
        sa.Column("pain_current_nrs", sa.Integer(), nullable=True),
        sa.Column("pain_average_nrs", sa.Integer(), nullable=True),
        sa.Column("pain_worst_nrs", sa.Integer(), nullable=True),
        sa.Column("sleep_interference_nrs", sa.Integer(), nullable=True),
        sa.Column("function_interference_nrs", sa.Integer(), nullable=True),
        sa.Column("medication_changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _instant("created_at"),
    )
    op.create_table(
        "adverse_events",
        _id(),
        _patient(),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("sessions.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        _instant("occurred_at"),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("body_site", sa.String(60), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        _instant("created_at"),
    )
    op.create_table(
        "audit_log",
        _id(),
        _instant("at"),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("record_type", sa.String(40), nullable=False),
        sa.Column("record_id", sa.String(80), nullable=True),
    )
    guards = {"sqlite": _AUDIT_GUARDS_SQLITE, "postgresql": _AUDIT_GUARDS_POSTGRESQL}
    for statement in guards.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("stimwise never downgrades a records database")
