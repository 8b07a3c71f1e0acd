"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('encoding', sa.String(length=32), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )
    op.create_table('metrics',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=True),
    sa.Column('aggregation', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=True),
    sa.Column('numerator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('denominator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('scale', sa.Integer(), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.CheckConstraint("(aggregation = 'ratio' AND numerator_id IS NOT NULL AND denominator_id IS NOT NULL) OR (aggregation <> 'ratio' AND source IS NOT NULL)", name=op.f('ck_metrics_definition')),
    sa.CheckConstraint("aggregation IN ('sum', 'count', 'distinct_count', 'ratio', 'average')", name=op.f('ck_metrics_aggregation')),
    sa.ForeignKeyConstraint(['denominator_id'], ['metrics.id'], name=op.f('fk_metrics_denominator_id_metrics')),
    sa.ForeignKeyConstraint(['numerator_id'], ['metrics.id'], name=op.f('fk_metrics_numerator_id_metrics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrics')),
    sa.UniqueConstraint('code', name=op.f('uq_metrics_code'))
    )
    op.create_table('org_nodes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.CheckConstraint("kind IN ('company', 'region', 'team', 'rep')", name=op.f('ck_org_nodes_kind')),
    sa.ForeignKeyConstraint(['manager_id'], ['org_nodes.id'], name=op.f('fk_org_nodes_manager_id_org_nodes')),
    sa.ForeignKeyConstraint(['parent_id'], ['org_nodes.id'], name=op.f('fk_org_nodes_parent_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_nodes')),
    sa.UniqueConstraint('code', name=op.f('uq_org_nodes_code'))
    )
    op.create_index(op.f('ix_org_nodes_parent_id'), 'org_nodes', ['parent_id'], unique=False)
    op.create_index(op.f('ix_org_nodes_path'), 'org_nodes', ['path'], unique=False)

    op.create_table('product_nodes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('launched_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['product_nodes.id'], name=op.f('fk_product_nodes_parent_id_product_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_nodes')),
    sa.UniqueConstraint('code', name=op.f('uq_product_nodes_code'))
    )
    op.create_index(op.f('ix_product_nodes_parent_id'), 'product_nodes', ['parent_id'], unique=False)
    op.create_index(op.f('ix_product_nodes_path'), 'product_nodes', ['path'], unique=False)

    op.create_table('customers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('customer_type', sa.String(length=16), nullable=True),
    sa.Column('grade', sa.String(length=1), nullable=True),
    sa.Column('segment', sa.String(length=100), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('region_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('first_order_date', sa.Date(), nullable=True),
    sa.CheckConstraint("customer_type IS NULL OR customer_type IN ('new', 'existing')", name=op.f('ck_customers_customer_type')),
    sa.CheckConstraint("grade IS NULL OR grade IN ('A', 'B', 'C')", name=op.f('ck_customers_grade')),
    sa.ForeignKeyConstraint(['owner_id'], ['org_nodes.id'], name=op.f('fk_customers_owner_id_org_nodes')),
    sa.ForeignKeyConstraint(['region_id'], ['org_nodes.id'], name=op.f('fk_customers_region_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('code', name=op.f('uq_customers_code'))
    )
    op.create_index(op.f('ix_customers_owner_id'), 'customers', ['owner_id'], unique=False)
    op.create_index(op.f('ix_customers_region_id'), 'customers', ['region_id'], unique=False)

    op.create_table('plans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('metric_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'approved', 'locked')", name=op.f('ck_plans_status')),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_plans_date_range')),
    sa.CheckConstraint('unit > 0', name=op.f('ck_plans_unit_positive')),
    sa.ForeignKeyConstraint(['metric_id'], ['metrics.id'], name=op.f('fk_plans_metric_id_metrics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('name', 'version', name='uq_plans_name_version')
    )
    op.create_table('opportunities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('rep_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('expected_close_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.CheckConstraint("stage IN ('lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost')", name=op.f('ck_opportunities_stage')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_opportunities_customer_id_customers')),
    sa.ForeignKeyConstraint(['product_id'], ['product_nodes.id'], name=op.f('fk_opportunities_product_id_product_nodes')),
    sa.ForeignKeyConstraint(['rep_id'], ['org_nodes.id'], name=op.f('fk_opportunities_rep_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities')),
    sa.UniqueConstraint('code', name=op.f('uq_opportunities_code'))
    )
    op.create_index(op.f('ix_opportunities_customer_id'), 'opportunities', ['customer_id'], unique=False)
    op.create_index(op.f('ix_opportunities_rep_id'), 'opportunities', ['rep_id'], unique=False)

    op.create_table('order_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_id', sa.String(length=128), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('rep_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('region_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('cost', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines')),
    sa.UniqueConstraint('line_id', name=op.f('uq_order_lines_line_id'))
    )
    op.create_index('ix_order_lines_date_rep', 'order_lines', ['order_date', 'rep_id'], unique=False)

    op.create_table('plan_cells',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('org_node_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_node_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('customer_type', sa.String(length=16), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('strategy_note', sa.Text(), nullable=True),
    sa.Column('assessment_rule', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_nodes.id'], name=op.f('fk_plan_cells_org_node_id_org_nodes')),
    sa.ForeignKeyConstraint(['owner_id'], ['org_nodes.id'], name=op.f('fk_plan_cells_owner_id_org_nodes')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_cells_plan_id_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_node_id'], ['product_nodes.id'], name=op.f('fk_plan_cells_product_node_id_product_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_cells'))
    )
    op.create_index(op.f('ix_plan_cells_org_node_id'), 'plan_cells', ['org_node_id'], unique=False)
    op.create_index(
        'uq_plan_cells_key',
        'plan_cells',
        ['plan_id', 'period', 'org_node_id', sa.text('coalesce(product_node_id, 0)'), 'customer_type'],
        unique=True,
    )

    op.create_table('activities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('activity_date', sa.Date(), nullable=False),
    sa.Column('rep_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('opportunity_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('visit', 'call', 'proposal', 'meeting', 'email', 'demo', 'other')", name=op.f('ck_activities_kind')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_activities_customer_id_customers')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_activities_opportunity_id_opportunities'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rep_id'], ['org_nodes.id'], name=op.f('fk_activities_rep_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities')),
    sa.UniqueConstraint('code', name=op.f('uq_activities_code'))
    )
    op.create_index(op.f('ix_activities_customer_id'), 'activities', ['customer_id'], unique=False)
    op.create_index('ix_activities_date_rep', 'activities', ['activity_date', 'rep_id'], unique=False)

    op.create_table('opportunity_stage_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('opportunity_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_opportunity_stage_changes_opportunity_id_opportunities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_stage_changes')),
    sa.UniqueConstraint('opportunity_id', 'stage', name='uq_stage_change')
    )
    op.create_index(op.f('ix_opportunity_stage_changes_opportunity_id'), 'opportunity_stage_changes', ['opportunity_id'], unique=False)


    metrics = sa.table(
        'metrics',
        sa.column('code', sa.String), sa.column('name', sa.String), sa.column('name_zh', sa.String),
        sa.column('aggregation', sa.String), sa.column('source', sa.String), sa.column('unit', sa.String),
        sa.column('scale', sa.Integer), sa.column('builtin', sa.Boolean),
    )
    # A copy of attain.metrics.models.BUILTIN_METRICS as of this revision (revisions never change).
    op.bulk_insert(metrics, [
        {'code': 'revenue', 'name': 'Revenue', 'name_zh': '销售额', 'aggregation': 'sum', 'source': 'amount', 'unit': 'CNY', 'scale': 2, 'builtin': True},
        {'code': 'gross_profit', 'name': 'Gross profit', 'name_zh': '毛利', 'aggregation': 'sum', 'source': 'gross_profit', 'unit': 'CNY', 'scale': 2, 'builtin': True},
        {'code': 'quantity', 'name': 'Quantity', 'name_zh': '销量', 'aggregation': 'sum', 'source': 'quantity', 'unit': 'pcs', 'scale': 0, 'builtin': True},
        {'code': 'orders', 'name': 'Order count', 'name_zh': '订单数', 'aggregation': 'distinct_count', 'source': 'order', 'unit': 'orders', 'scale': 0, 'builtin': True},
        {'code': 'new_customers', 'name': 'New customers', 'name_zh': '新客户数', 'aggregation': 'distinct_count', 'source': 'new_customer', 'unit': 'customers', 'scale': 0, 'builtin': True},
    ])


def downgrade() -> None:
    op.drop_index(op.f('ix_opportunity_stage_changes_opportunity_id'), table_name='opportunity_stage_changes')

    op.drop_table('opportunity_stage_changes')
    op.drop_index('ix_activities_date_rep', table_name='activities')
    op.drop_index(op.f('ix_activities_customer_id'), table_name='activities')

    op.drop_table('activities')
    op.drop_index('uq_plan_cells_key', table_name='plan_cells')
    op.drop_index(op.f('ix_plan_cells_org_node_id'), table_name='plan_cells')

    op.drop_table('plan_cells')
    op.drop_index('ix_order_lines_date_rep', table_name='order_lines')

    op.drop_table('order_lines')
    op.drop_index(op.f('ix_opportunities_rep_id'), table_name='opportunities')
    op.drop_index(op.f('ix_opportunities_customer_id'), table_name='opportunities')

    op.drop_table('opportunities')
    op.drop_table('plans')
    op.drop_index(op.f('ix_customers_region_id'), table_name='customers')
    op.drop_index(op.f('ix_customers_owner_id'), table_name='customers')

    op.drop_table('customers')
    op.drop_index(op.f('ix_product_nodes_path'), table_name='product_nodes')
    op.drop_index(op.f('ix_product_nodes_parent_id'), table_name='product_nodes')

    op.drop_table('product_nodes')
    op.drop_index(op.f('ix_org_nodes_path'), table_name='org_nodes')
    op.drop_index(op.f('ix_org_nodes_parent_id'), table_name='org_nodes')

    op.drop_table('org_nodes')
    op.drop_table('metrics')
    op.drop_table('import_runs')
