"""incentives: incentive plans (versioned, approved), participants, components, closed statements

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

An incentive plan pays commission and bonuses on the target plans in force (issue 16). A closed
settlement period keeps every person's statement frozen; later corrections are adjustments paid in
the period whose close records them.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('incentive_plans',
    sa.Column('id', _ID, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('settlement', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('revision_of', _ID, nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('submitted_by', sa.String(length=100), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('approved_by', sa.String(length=100), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'approved', 'superseded')", name=op.f('ck_incentive_plans_status')),
    sa.CheckConstraint("settlement IN ('month', 'quarter')", name=op.f('ck_incentive_plans_settlement')),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_incentive_plans_date_range')),
    sa.ForeignKeyConstraint(['revision_of'], ['incentive_plans.id'], name=op.f('fk_incentive_plans_revision_of_incentive_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incentive_plans')),
    sa.UniqueConstraint('name', 'version', name='uq_incentive_plans_name_version')
    )
    op.create_table('incentive_participants',
    sa.Column('id', _ID, nullable=False),
    sa.Column('plan_id', _ID, nullable=False),
    sa.Column('org_node_id', _ID, nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('target_incentive', sa.BigInteger(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.CheckConstraint("role IN ('rep', 'manager')", name=op.f('ck_incentive_participants_role')),
    sa.CheckConstraint('target_incentive >= 0', name=op.f('ck_incentive_participants_target_incentive_non_negative')),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_nodes.id'], name=op.f('fk_incentive_participants_org_node_id_org_nodes')),
    sa.ForeignKeyConstraint(['plan_id'], ['incentive_plans.id'], name=op.f('fk_incentive_participants_plan_id_incentive_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incentive_participants'))
    )
    op.create_index(op.f('ix_incentive_participants_plan_id'), 'incentive_participants', ['plan_id'], unique=False)
    op.create_table('incentive_components',
    sa.Column('id', _ID, nullable=False),
    sa.Column('plan_id', _ID, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('weight_bp', sa.Integer(), nullable=True),
    sa.Column('metric', sa.String(length=64), nullable=True),
    sa.Column('target_plan', sa.String(length=100), nullable=True),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.CheckConstraint("kind IN ('rate_table', 'payout_curve', 'slice_rate', 'milestone', 'spif', 'team_pool')", name=op.f('ck_incentive_components_kind')),
    sa.ForeignKeyConstraint(['plan_id'], ['incentive_plans.id'], name=op.f('fk_incentive_components_plan_id_incentive_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incentive_components')),
    sa.UniqueConstraint('plan_id', 'code', name='uq_incentive_components_plan_code')
    )
    op.create_index(op.f('ix_incentive_components_plan_id'), 'incentive_components', ['plan_id'], unique=False)
    op.create_table('incentive_closes',
    sa.Column('id', _ID, nullable=False),
    sa.Column('plan_name', sa.String(length=100), nullable=False),
    sa.Column('plan_id', _ID, nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('closed_by', sa.String(length=100), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['incentive_plans.id'], name=op.f('fk_incentive_closes_plan_id_incentive_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incentive_closes')),
    sa.UniqueConstraint('plan_name', 'period', name='uq_incentive_closes_plan_period')
    )
    op.create_table('incentive_statements',
    sa.Column('id', _ID, nullable=False),
    sa.Column('close_id', _ID, nullable=False),
    sa.Column('org_node_id', _ID, nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('earned', sa.BigInteger(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('orders', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['close_id'], ['incentive_closes.id'], name=op.f('fk_incentive_statements_close_id_incentive_closes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_nodes.id'], name=op.f('fk_incentive_statements_org_node_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incentive_statements')),
    sa.UniqueConstraint('close_id', 'org_node_id', name='uq_incentive_statements_close_node')
    )
    op.create_index(op.f('ix_incentive_statements_close_id'), 'incentive_statements', ['close_id'], unique=False)
    op.create_table('incentive_adjustments',
    sa.Column('id', _ID, nullable=False),
    sa.Column('close_id', _ID, nullable=False),
    sa.Column('org_node_id', _ID, nullable=False),
    sa.Column('for_period', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('orders', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['close_id'], ['incentive_closes.id'], name=op.f('fk_incentive_adjustments_close_id_incentive_closes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_nodes.id'], name=op.f('fk_incentive_adjustments_org_node_id_org_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incentive_adjustments'))
    )
    op.create_index(op.f('ix_incentive_adjustments_close_id'), 'incentive_adjustments', ['close_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_incentive_adjustments_close_id'), table_name='incentive_adjustments')
    op.drop_table('incentive_adjustments')
    op.drop_index(op.f('ix_incentive_statements_close_id'), table_name='incentive_statements')
    op.drop_table('incentive_statements')
    op.drop_table('incentive_closes')
    op.drop_index(op.f('ix_incentive_components_plan_id'), table_name='incentive_components')
    op.drop_table('incentive_components')
    op.drop_index(op.f('ix_incentive_participants_plan_id'), table_name='incentive_participants')
    op.drop_table('incentive_participants')
    op.drop_table('incentive_plans')
