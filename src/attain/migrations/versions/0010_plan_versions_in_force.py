"""plan versions in force: a revision is its own draft row (copy-on-write) with an effective date

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

`revision_of` names the approved row a draft revises; `effective_from` is the first day the
revision may change (cells of periods that ended before it are frozen). When the revision is
approved, the row it revises becomes `superseded` and keeps its cells for the record.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('plans') as batch:
        batch.drop_constraint(op.f('ck_plans_status'), type_='check')
        batch.create_check_constraint(
            op.f('ck_plans_status'), "status IN ('draft', 'submitted', 'approved', 'locked', 'superseded')")
        batch.add_column(sa.Column('revision_of', _ID, nullable=True))
        batch.add_column(sa.Column('effective_from', sa.Date(), nullable=True))
        batch.create_foreign_key(op.f('fk_plans_revision_of_plans'), 'plans', ['revision_of'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('plans') as batch:
        batch.drop_constraint(op.f('fk_plans_revision_of_plans'), type_='foreignkey')
        batch.drop_column('effective_from')
        batch.drop_column('revision_of')
        batch.drop_constraint(op.f('ck_plans_status'), type_='check')
        batch.create_check_constraint(
            op.f('ck_plans_status'), "status IN ('draft', 'submitted', 'approved', 'locked')")
