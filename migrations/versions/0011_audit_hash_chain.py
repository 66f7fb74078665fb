"""audit log: outcome, client address and a hash chain; TRUNCATE refused

Existing rows are numbered 1, 2, 3... in their order (a rolled-back PostgreSQL transaction
can have left a gap in the old ids, and the chain checks that ids run without gaps; nothing
refers to audit ids), their outcome and address are moved out of ``details`` where the
previous code kept them, and they are chained from the first row.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa

from learning.audit.chain import GENESIS, compute_hash, normalise_details


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = {
    "audit_entry_no_update": "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
                             "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "audit_entry_no_delete": "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
                             "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
}
PG_TRUNCATE_TRIGGER = ("CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
                       "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()")

audit = sa.table(
    'audit_entry', sa.column('id', sa.Integer), sa.column('at', sa.DateTime),
    sa.column('actor_id', sa.Integer), sa.column('agency_id', sa.Integer),
    sa.column('action', sa.String), sa.column('target', sa.String),
    sa.column('details', sa.JSON), sa.column('outcome', sa.String),
    sa.column('address', sa.String), sa.column('prev_hash', sa.String),
    sa.column('row_hash', sa.String))


def _allow_changes(dialect: str, allowed: bool) -> None:
    """Lift (or restore) the append-only triggers while this migration rewrites the table."""
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE audit_entry {'DISABLE' if allowed else 'ENABLE'} "
                   "TRIGGER audit_entry_no_change")
    elif dialect == "sqlite":
        for name, create in SQLITE_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            if not allowed:
                op.execute(create)


def _chain_existing_rows() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(audit).order_by(audit.c.id)).all()
    prev_hash = GENESIS
    for number, row in enumerate(rows, start=1):
        details = normalise_details(row.details)
        outcome = details.pop("outcome", None) or "success"
        address = details.pop("address", None)
        address = str(address)[:45] if address else None
        row_hash = compute_hash(number, row.at, row.actor_id, row.agency_id, row.action,
                                row.target or "", details, outcome, address, prev_hash)
        bind.execute(audit.update().where(audit.c.id == row.id).values(
            id=number, target=row.target or "", details=details, outcome=outcome,
            address=address, prev_hash=prev_hash, row_hash=row_hash))
        prev_hash = row_hash


def upgrade():
    dialect = op.get_bind().dialect.name
    _allow_changes(dialect, True)
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=True))
    _chain_existing_rows()
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.alter_column('outcome', existing_type=sa.String(length=10), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('row_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_entry_row_hash'), ['row_hash'])
    _allow_changes(dialect, False)
    if dialect == "postgresql":
        op.execute(PG_TRUNCATE_TRIGGER)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry")
    _allow_changes(dialect, True)
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_entry_row_hash'), type_='unique')
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('address')
        batch_op.drop_column('outcome')
    _allow_changes(dialect, False)
