"""tracking: alert rules, alert inbox, webhooks and their delivery log (diagnosis and alerts, issue 6)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # --- alerts (attain.tracking.models: AlertRule, AlertEvent, AlertWebhook, AlertDelivery) ---
    op.create_table('alert_webhooks',
    sa.Column('id', BigId, nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint("format IN ('wecom', 'dingtalk', 'slack')", name=op.f('ck_alert_webhooks_format')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_webhooks')),
    sa.UniqueConstraint('url', name=op.f('uq_alert_webhooks_url'))
    )
    alert_rules = op.create_table('alert_rules',
    sa.Column('id', BigId, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('threshold', sa.Numeric(precision=12, scale=4), nullable=True),
    sa.Column('min_working_day', sa.Integer(), nullable=True),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('grain', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('node_id', BigId, nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint("grain IN ('week', 'month', 'quarter', 'year')", name=op.f('ck_alert_rules_grain')),
    sa.CheckConstraint("kind IN ('pace_gap_below', 'no_new_lead_days', 'forecast_below_pct')", name=op.f('ck_alert_rules_kind')),
    sa.CheckConstraint("level IN ('rep', 'team', 'region')", name=op.f('ck_alert_rules_level')),
    sa.ForeignKeyConstraint(['node_id'], ['org_nodes.id'], name=op.f('fk_alert_rules_node_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_rules')),
    sa.UniqueConstraint('code', name=op.f('uq_alert_rules_code'))
    )
    op.create_table('alert_events',
    sa.Column('id', BigId, nullable=False),
    sa.Column('rule_id', BigId, nullable=False),
    sa.Column('org_node_id', BigId, nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('condition', sa.String(length=200), nullable=False),
    sa.Column('dedup_key', sa.String(length=400), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_nodes.id'], name=op.f('fk_alert_events_org_node_id_org_nodes')),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], name=op.f('fk_alert_events_rule_id_alert_rules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_events')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_alert_events_dedup_key'))
    )
    op.create_index(op.f('ix_alert_events_org_node_id'), 'alert_events', ['org_node_id'], unique=False)
    op.create_index(op.f('ix_alert_events_rule_id'), 'alert_events', ['rule_id'], unique=False)
    op.create_table('alert_deliveries',
    sa.Column('id', BigId, nullable=False),
    sa.Column('event_id', BigId, nullable=False),
    sa.Column('webhook_id', BigId, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_alert_deliveries_status')),
    sa.ForeignKeyConstraint(['event_id'], ['alert_events.id'], name=op.f('fk_alert_deliveries_event_id_alert_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['webhook_id'], ['alert_webhooks.id'], name=op.f('fk_alert_deliveries_webhook_id_alert_webhooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_deliveries')),
    sa.UniqueConstraint('event_id', 'webhook_id', name='uq_alert_deliveries_event_webhook')
    )
    op.create_index(op.f('ix_alert_deliveries_status'), 'alert_deliveries', ['status'], unique=False)
    op.create_index(op.f('ix_alert_deliveries_webhook_id'), 'alert_deliveries', ['webhook_id'], unique=False)
    # Default rules, a copy of attain.tracking.alerts.DEFAULT_RULES as of this revision.
    op.bulk_insert(alert_rules, [
        {'code': 'pace_gap', 'kind': 'pace_gap_below', 'threshold': -0.1, 'min_working_day': 10, 'days': None,
         'grain': 'month', 'level': 'rep', 'node_id': None, 'enabled': True},
        {'code': 'no_new_lead', 'kind': 'no_new_lead_days', 'threshold': None, 'min_working_day': None, 'days': 5,
         'grain': 'month', 'level': 'rep', 'node_id': None, 'enabled': True},
        {'code': 'forecast_low', 'kind': 'forecast_below_pct', 'threshold': 0.9, 'min_working_day': 5, 'days': None,
         'grain': 'month', 'level': 'rep', 'node_id': None, 'enabled': True},
    ])


def downgrade() -> None:
    # --- alerts ---
    op.drop_index(op.f('ix_alert_deliveries_webhook_id'), table_name='alert_deliveries')
    op.drop_index(op.f('ix_alert_deliveries_status'), table_name='alert_deliveries')
    op.drop_table('alert_deliveries')
    op.drop_index(op.f('ix_alert_events_rule_id'), table_name='alert_events')
    op.drop_index(op.f('ix_alert_events_org_node_id'), table_name='alert_events')
    op.drop_table('alert_events')
    op.drop_table('alert_rules')
    op.drop_table('alert_webhooks')
