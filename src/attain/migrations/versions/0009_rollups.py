"""rollups: order lines pre-summed per (month, rep) and per day, with the line id they cover

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

The tables start empty and the state unknown (NULL); `attain.migrate.upgrade` builds them right
after the migration (and reports read the lines until then).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _sums() -> list[sa.Column]:
    return [
        sa.Column('returns', sa.Boolean(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('profit', sa.BigInteger(), nullable=True),
        sa.Column('quantity', sa.Numeric(precision=24, scale=4), nullable=False),
        sa.Column('lines', sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table('rollup_rep_months',
    sa.Column('id', _ID, nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('rep_id', _ID, nullable=True),
    *_sums(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_rep_months'))
    )
    op.create_index('ix_rollup_rep_months_month_rep', 'rollup_rep_months', ['month', 'rep_id'], unique=False)
    op.create_index('ix_rollup_rep_months_rep_month', 'rollup_rep_months', ['rep_id', 'month'], unique=False)
    op.create_table('rollup_days',
    sa.Column('id', _ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    *_sums(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_days'))
    )
    op.create_index('ix_rollup_days_day', 'rollup_days', ['day'], unique=False)
    op.create_table('rollup_state',
    sa.Column('id', _ID, nullable=False),
    sa.Column('line_max_id', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_state'))
    )
    op.execute("INSERT INTO rollup_state (id, line_max_id) VALUES (1, NULL)")


def downgrade() -> None:
    op.drop_table('rollup_state')
    op.drop_index('ix_rollup_days_day', table_name='rollup_days')
    op.drop_table('rollup_days')
    op.drop_index('ix_rollup_rep_months_rep_month', table_name='rollup_rep_months')
    op.drop_index('ix_rollup_rep_months_month_rep', table_name='rollup_rep_months')
    op.drop_table('rollup_rep_months')
