"""customer_attributes (effective-dated customer attributes) and a customer axis on plan cells

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

Issue 17: any customer attribute is a dimension. `customer_attributes` holds the history of a
customer's grade, segment, RFM class or any imported column, so a figure by grade on a past day uses
the grade in force that day. `plan_cells.customer_axis` / `customer_value` let a plan split customers
by such an attribute (segment 大客户 / 中小企业 …) as its own axis, beside customer_type
(new / existing, whose CHECK stays as it is); the cell key includes them. The change log
(`plan_cell_changes`) records them too.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_OLD_KEY = ['plan_id', 'period', 'org_node_id', sa.text('coalesce(product_node_id, 0)'), 'customer_type']


def upgrade() -> None:
    op.create_table('customer_attributes',
    sa.Column('id', _ID, nullable=False),
    sa.Column('customer_id', _ID, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=True),
    sa.CheckConstraint('valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from',
                       name=op.f('ck_customer_attributes_date_range')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_attributes_customer_id_customers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_attributes'))
    )
    op.create_index('ix_customer_attributes_name_customer', 'customer_attributes', ['name', 'customer_id', 'valid_from'],
                    unique=False)
    for table in ('plan_cells', 'plan_cell_changes'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('customer_axis', sa.String(length=64), server_default='', nullable=False))
            batch.add_column(sa.Column('customer_value', sa.String(length=200), server_default='all', nullable=False))
    op.drop_index('uq_plan_cells_key', table_name='plan_cells')
    op.create_index('uq_plan_cells_key', 'plan_cells', [*_OLD_KEY, 'customer_axis', 'customer_value'], unique=True)


def downgrade() -> None:
    op.execute("DELETE FROM plan_cells WHERE customer_axis <> ''")
    op.drop_index('uq_plan_cells_key', table_name='plan_cells')
    op.create_index('uq_plan_cells_key', 'plan_cells', _OLD_KEY, unique=True)
    for table in ('plan_cell_changes', 'plan_cells'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('customer_value')
            batch.drop_column('customer_axis')
    op.drop_index('ix_customer_attributes_name_customer', table_name='customer_attributes')
    op.drop_table('customer_attributes')
