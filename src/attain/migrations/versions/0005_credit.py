"""credit (tables owned by the credit module): crediting rules, split and overlay credit,
effective-dated positions and assignments, currency rates, returned orders, event dates on order lines

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
ORDER_LINE_DATES = ('shipped_on', 'invoiced_on', 'paid_on', 'original_sale_on')


def upgrade() -> None:
    op.create_table('credit_rules',
    sa.Column('id', BigId, nullable=False),
    sa.Column('plan_id', BigId, nullable=True),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('basis', sa.String(length=16), nullable=False),
    sa.Column('returns_in', sa.String(length=16), nullable=False),
    sa.Column('reassign', sa.Boolean(), nullable=False),
    sa.Column('base_currency', sa.String(length=3), nullable=False),
    sa.CheckConstraint("basis IN ('net', 'gross_profit')", name=op.f('ck_credit_rules_basis')),
    sa.CheckConstraint("event IN ('booked', 'shipped', 'invoiced', 'paid')", name=op.f('ck_credit_rules_event')),
    sa.CheckConstraint("returns_in IN ('return', 'sale')", name=op.f('ck_credit_rules_returns_in')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_credit_rules_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_rules')),
    sa.UniqueConstraint('plan_id', name=op.f('uq_credit_rules_plan_id'))
    )
    op.create_table('credit_splits',
    sa.Column('id', BigId, nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('line_id', sa.String(length=128), nullable=True),
    sa.Column('rep_id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('share_bp', sa.Integer(), nullable=False),
    sa.Column('cum_from_bp', sa.Integer(), nullable=False),
    sa.Column('cum_to_bp', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.CheckConstraint("kind IN ('direct', 'overlay')", name=op.f('ck_credit_splits_kind')),
    sa.CheckConstraint('share_bp > 0 AND share_bp <= 10000', name=op.f('ck_credit_splits_share')),
    sa.ForeignKeyConstraint(['rep_id'], ['org_nodes.id'], name=op.f('fk_credit_splits_rep_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_splits'))
    )
    op.create_index(op.f('ix_credit_splits_order_id'), 'credit_splits', ['order_id'], unique=False)
    op.create_table('credit_team_overlays',
    sa.Column('id', BigId, nullable=False),
    sa.Column('node_id', BigId, nullable=False),
    sa.Column('rep_id', BigId, nullable=False),
    sa.Column('share_bp', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.CheckConstraint('share_bp > 0 AND share_bp <= 10000', name=op.f('ck_credit_team_overlays_share')),
    sa.ForeignKeyConstraint(['node_id'], ['org_nodes.id'], name=op.f('fk_credit_team_overlays_node_id_org_nodes')),
    sa.ForeignKeyConstraint(['rep_id'], ['org_nodes.id'], name=op.f('fk_credit_team_overlays_rep_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_team_overlays'))
    )
    op.create_table('rep_positions',
    sa.Column('id', BigId, nullable=False),
    sa.Column('rep_id', BigId, nullable=False),
    sa.Column('node_id', BigId, nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['node_id'], ['org_nodes.id'], name=op.f('fk_rep_positions_node_id_org_nodes')),
    sa.ForeignKeyConstraint(['rep_id'], ['org_nodes.id'], name=op.f('fk_rep_positions_rep_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rep_positions'))
    )
    op.create_index(op.f('ix_rep_positions_rep_id'), 'rep_positions', ['rep_id'], unique=False)
    op.create_table('credit_assignments',
    sa.Column('id', BigId, nullable=False),
    sa.Column('customer_id', BigId, nullable=True),
    sa.Column('region_id', BigId, nullable=True),
    sa.Column('rep_id', BigId, nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.CheckConstraint('(customer_id IS NULL) <> (region_id IS NULL)', name=op.f('ck_credit_assignments_one_key')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credit_assignments_customer_id_customers')),
    sa.ForeignKeyConstraint(['region_id'], ['org_nodes.id'], name=op.f('fk_credit_assignments_region_id_org_nodes')),
    sa.ForeignKeyConstraint(['rep_id'], ['org_nodes.id'], name=op.f('fk_credit_assignments_rep_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_assignments'))
    )
    op.create_index(op.f('ix_credit_assignments_customer_id'), 'credit_assignments', ['customer_id'], unique=False)
    op.create_index(op.f('ix_credit_assignments_region_id'), 'credit_assignments', ['region_id'], unique=False)
    op.create_table('currency_rates',
    sa.Column('id', BigId, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('rate', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.CheckConstraint('rate > 0', name=op.f('ck_currency_rates_rate_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_currency_rates')),
    sa.UniqueConstraint('currency', 'valid_from', name=op.f('uq_currency_rates_currency'))
    )
    op.create_table('returned_orders',
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('returned_on', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_returned_orders'))
    )
    with op.batch_alter_table('order_lines') as batch:
        for name in ORDER_LINE_DATES:
            batch.add_column(sa.Column(name, sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('order_lines') as batch:
        for name in reversed(ORDER_LINE_DATES):
            batch.drop_column(name)
    op.drop_table('returned_orders')
    op.drop_table('currency_rates')
    op.drop_index(op.f('ix_credit_assignments_region_id'), table_name='credit_assignments')
    op.drop_index(op.f('ix_credit_assignments_customer_id'), table_name='credit_assignments')
    op.drop_table('credit_assignments')
    op.drop_index(op.f('ix_rep_positions_rep_id'), table_name='rep_positions')
    op.drop_table('rep_positions')
    op.drop_table('credit_team_overlays')
    op.drop_index(op.f('ix_credit_splits_order_id'), table_name='credit_splits')
    op.drop_table('credit_splits')
    op.drop_table('credit_rules')
