"""company calendar: the company's own holidays and make-up workdays

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Which official calendar the company follows is the `calendar` setting (a row of `settings`, no
schema change); this table holds the days the company adds on top of it.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('company_calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f('ck_company_calendar_days_kind')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_company_calendar_days'))
    )


def downgrade() -> None:
    op.drop_table('company_calendar_days')
