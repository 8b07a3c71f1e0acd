"""real data import features: external ids on org nodes, products and customers; rep territories

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
    op.create_table('rep_territories',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rep_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('region_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['region_id'], ['org_nodes.id'], name=op.f('fk_rep_territories_region_id_org_nodes')),
    sa.ForeignKeyConstraint(['rep_id'], ['org_nodes.id'], name=op.f('fk_rep_territories_rep_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rep_territories'))
    )
    op.create_index('ix_rep_territories_rep_region', 'rep_territories', ['rep_id', 'region_id'], unique=False)
    op.create_index(op.f('ix_rep_territories_region_id'), 'rep_territories', ['region_id'], unique=False)
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
            batch.create_unique_constraint(op.f(f'uq_{table}_external_id'), ['external_id'])


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f'uq_{table}_external_id'), type_='unique')
            batch.drop_column('external_id')
    op.drop_index(op.f('ix_rep_territories_region_id'), table_name='rep_territories')
    op.drop_index('ix_rep_territories_rep_region', table_name='rep_territories')
    op.drop_table('rep_territories')
