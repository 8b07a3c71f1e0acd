"""real data import features: external ids on org nodes, products and customers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_TABLES = ('org_nodes', 'product_nodes', 'customers')


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
            batch.create_unique_constraint(op.f(f'uq_{table}_external_id'), ['external_id'])


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f'uq_{table}_external_id'), type_='unique')
            batch.drop_column('external_id')
