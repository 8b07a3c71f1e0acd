"""market: market sizes, share estimates, competitor events, marketing spend; alert kind market_shift

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

Issue 18: the market a target is anchored on (size by region × product line × period, with source and
date; industry growth; own and competitors' shares), competitor events (price cut, new product,
campaign) and marketing spend (for the lead yield). Alert kind `market_shift` carries the
re-weighting a competitor event, a market change or a falling share proposes; the default rule
`market_shift` (a share drop of 2 points or more) is seeded like the rules of 0006.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_KINDS_BEFORE = "kind IN ('pace_gap_below', 'no_new_lead_days', 'forecast_below_pct', 'ytd_below_pct')"
_KINDS_AFTER = "kind IN ('pace_gap_below', 'no_new_lead_days', 'forecast_below_pct', 'ytd_below_pct', 'market_shift')"


def upgrade() -> None:
    op.create_table('market_sizes',
    sa.Column('id', _ID, nullable=False),
    sa.Column('region_id', _ID, nullable=False),
    sa.Column('product_node_id', _ID, nullable=True),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('growth', sa.Numeric(precision=9, scale=4), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('source_date', sa.Date(), nullable=True),
    sa.Column('previous_size', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('size >= 0', name=op.f('ck_market_sizes_size_non_negative')),
    sa.ForeignKeyConstraint(['region_id'], ['org_nodes.id'], name=op.f('fk_market_sizes_region_id_org_nodes')),
    sa.ForeignKeyConstraint(['product_node_id'], ['product_nodes.id'], name=op.f('fk_market_sizes_product_node_id_product_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_sizes'))
    )
    op.create_index(op.f('ix_market_sizes_region_id'), 'market_sizes', ['region_id'], unique=False)
    op.create_index('uq_market_sizes_key', 'market_sizes',
                    ['region_id', sa.text('coalesce(product_node_id, 0)'), 'period'], unique=True)
    op.create_table('market_shares',
    sa.Column('id', _ID, nullable=False),
    sa.Column('region_id', _ID, nullable=False),
    sa.Column('product_node_id', _ID, nullable=True),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('player', sa.String(length=100), nullable=False),
    sa.Column('share', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('source_date', sa.Date(), nullable=True),
    sa.CheckConstraint('share >= 0 AND share <= 1', name=op.f('ck_market_shares_share_range')),
    sa.ForeignKeyConstraint(['region_id'], ['org_nodes.id'], name=op.f('fk_market_shares_region_id_org_nodes')),
    sa.ForeignKeyConstraint(['product_node_id'], ['product_nodes.id'], name=op.f('fk_market_shares_product_node_id_product_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_shares'))
    )
    op.create_index(op.f('ix_market_shares_region_id'), 'market_shares', ['region_id'], unique=False)
    op.create_index('uq_market_shares_key', 'market_shares',
                    ['region_id', sa.text('coalesce(product_node_id, 0)'), 'period', 'player'], unique=True)
    op.create_table('competitor_events',
    sa.Column('id', _ID, nullable=False),
    sa.Column('event_date', sa.Date(), nullable=False),
    sa.Column('region_id', _ID, nullable=False),
    sa.Column('product_node_id', _ID, nullable=True),
    sa.Column('competitor', sa.String(length=100), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("kind IN ('price_cut', 'new_product', 'campaign')", name=op.f('ck_competitor_events_kind')),
    sa.CheckConstraint('severity BETWEEN 1 AND 3', name=op.f('ck_competitor_events_severity_range')),
    sa.ForeignKeyConstraint(['region_id'], ['org_nodes.id'], name=op.f('fk_competitor_events_region_id_org_nodes')),
    sa.ForeignKeyConstraint(['product_node_id'], ['product_nodes.id'], name=op.f('fk_competitor_events_product_node_id_product_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competitor_events'))
    )
    op.create_index('ix_competitor_events_date', 'competitor_events', ['event_date'], unique=False)
    op.create_index(op.f('ix_competitor_events_region_id'), 'competitor_events', ['region_id'], unique=False)
    op.create_table('marketing_spend',
    sa.Column('id', _ID, nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('region_id', _ID, nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_marketing_spend_amount_non_negative')),
    sa.ForeignKeyConstraint(['region_id'], ['org_nodes.id'], name=op.f('fk_marketing_spend_region_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_marketing_spend'))
    )
    op.create_index('uq_marketing_spend_key', 'marketing_spend', ['period', sa.text('coalesce(region_id, 0)')], unique=True)
    with op.batch_alter_table('alert_rules') as batch:
        batch.drop_constraint(op.f('ck_alert_rules_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_alert_rules_kind'), _KINDS_AFTER)
    rules = sa.table('alert_rules', sa.column('code', sa.String), sa.column('kind', sa.String),
                     sa.column('threshold', sa.Numeric), sa.column('min_working_day', sa.Integer),
                     sa.column('days', sa.Integer), sa.column('grain', sa.String), sa.column('level', sa.String),
                     sa.column('node_id', sa.Integer), sa.column('enabled', sa.Boolean))
    taken = op.get_bind().execute(sa.text("SELECT 1 FROM alert_rules WHERE code = 'market_shift'")).first()
    if taken is None:  # a company may have made its own rule of that name
        op.bulk_insert(rules, [{'code': 'market_shift', 'kind': 'market_shift', 'threshold': 0.02, 'min_working_day': None,
                                'days': None, 'grain': 'month', 'level': 'region', 'node_id': None, 'enabled': True}])


def downgrade() -> None:
    op.execute("DELETE FROM alert_events WHERE rule_id IN (SELECT id FROM alert_rules WHERE kind = 'market_shift')")
    op.execute("DELETE FROM alert_rules WHERE kind = 'market_shift'")
    with op.batch_alter_table('alert_rules') as batch:
        batch.drop_constraint(op.f('ck_alert_rules_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_alert_rules_kind'), _KINDS_BEFORE)
    op.drop_table('marketing_spend')
    op.drop_table('competitor_events')
    op.drop_table('market_shares')
    op.drop_table('market_sizes')
