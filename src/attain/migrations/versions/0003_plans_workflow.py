"""plans workflow: submitted status, split settings, versions with cell changes, commitments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('plans') as batch:
        batch.drop_constraint(op.f('ck_plans_status'), type_='check')
        batch.create_check_constraint(op.f('ck_plans_status'), "status IN ('draft', 'submitted', 'approved', 'locked')")
        batch.add_column(sa.Column('split_spec', sa.JSON(), nullable=True))
    op.create_table('plan_versions',
    sa.Column('id', BigId, nullable=False),
    sa.Column('plan_id', BigId, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('cells_changed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_versions_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_versions')),
    sa.UniqueConstraint('plan_id', 'version', name='uq_plan_versions_plan_version')
    )
    op.create_table('plan_cell_changes',
    sa.Column('id', BigId, nullable=False),
    sa.Column('version_id', BigId, nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('org_node_id', BigId, nullable=False),
    sa.Column('product_node_id', BigId, nullable=True),
    sa.Column('customer_type', sa.String(length=16), nullable=False),
    sa.Column('value_before', sa.BigInteger(), nullable=True),
    sa.Column('value_after', sa.BigInteger(), nullable=True),
    sa.Column('locked_before', sa.Boolean(), nullable=True),
    sa.Column('locked_after', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_nodes.id'], name=op.f('fk_plan_cell_changes_org_node_id_org_nodes')),
    sa.ForeignKeyConstraint(['product_node_id'], ['product_nodes.id'], name=op.f('fk_plan_cell_changes_product_node_id_product_nodes')),
    sa.ForeignKeyConstraint(['version_id'], ['plan_versions.id'], name=op.f('fk_plan_cell_changes_version_id_plan_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_cell_changes'))
    )
    op.create_index(op.f('ix_plan_cell_changes_version_id'), 'plan_cell_changes', ['version_id'], unique=False)
    op.create_table('plan_commitments',
    sa.Column('id', BigId, nullable=False),
    sa.Column('plan_id', BigId, nullable=False),
    sa.Column('org_node_id', BigId, nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('committed_by', sa.String(length=100), nullable=False),
    sa.Column('committed_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('value >= 0', name=op.f('ck_plan_commitments_value_non_negative')),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_nodes.id'], name=op.f('fk_plan_commitments_org_node_id_org_nodes')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_commitments_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_commitments')),
    sa.UniqueConstraint('plan_id', 'org_node_id', 'period', name='uq_plan_commitments_plan_node_period')
    )


def downgrade() -> None:
    op.drop_table('plan_commitments')
    op.drop_index(op.f('ix_plan_cell_changes_version_id'), table_name='plan_cell_changes')
    op.drop_table('plan_cell_changes')
    op.drop_table('plan_versions')
    op.execute("UPDATE plans SET status = 'draft' WHERE status = 'submitted'")
    with op.batch_alter_table('plans') as batch:
        batch.drop_column('split_spec')
        batch.drop_constraint(op.f('ck_plans_status'), type_='check')
        batch.create_check_constraint(op.f('ck_plans_status'), "status IN ('draft', 'approved', 'locked')")
