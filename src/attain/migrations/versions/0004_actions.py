"""actions: opportunity source (referrals) and the customer lifecycle metrics

The daily action list needs no table of its own: activities entered with `attain actions done`
go to the existing activities table (code MAN-…), like imported ones.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# A copy of the lifecycle entries of attain.metrics.models.BUILTIN_METRICS as of this revision.
LIFECYCLE_METRICS = [
    {'code': 'reach', 'name': 'Customers reached', 'name_zh': '触达客户数', 'aggregation': 'distinct_count', 'source': 'reached_customer', 'unit': 'customers'},
    {'code': 'opportunities_created', 'name': 'New opportunities (interest)', 'name_zh': '新增意向商机数', 'aggregation': 'count', 'source': 'interest', 'unit': 'opportunities'},
    {'code': 'opportunities_to_proposal', 'name': 'New opportunities reaching proposal', 'name_zh': '进入方案阶段的新商机数', 'aggregation': 'count', 'source': 'interest_to_proposal', 'unit': 'opportunities'},
    {'code': 'interest_to_proposal_rate', 'name': 'Interest → proposal rate', 'name_zh': '意向→方案转化率', 'aggregation': 'ratio', 'numerator': 'opportunities_to_proposal', 'denominator': 'opportunities_created', 'unit': '%'},
    {'code': 'proposals_closed', 'name': 'Proposals closed (won or lost)', 'name_zh': '已关闭方案数', 'aggregation': 'count', 'source': 'proposal_closed', 'unit': 'opportunities'},
    {'code': 'proposals_won', 'name': 'Proposals won', 'name_zh': '方案成交数', 'aggregation': 'count', 'source': 'proposal_won', 'unit': 'opportunities'},
    {'code': 'proposal_to_close_rate', 'name': 'Proposal → close rate', 'name_zh': '方案→成交率', 'aggregation': 'ratio', 'numerator': 'proposals_won', 'denominator': 'proposals_closed', 'unit': '%'},
    {'code': 'active_customers', 'name': 'Customers buying', 'name_zh': '成交客户数', 'aggregation': 'distinct_count', 'source': 'customer', 'unit': 'customers'},
    {'code': 'repeat_customers', 'name': 'Repeat customers', 'name_zh': '复购客户数', 'aggregation': 'distinct_count', 'source': 'repeat_customer', 'unit': 'customers'},
    {'code': 'repurchase_rate', 'name': 'Repurchase rate', 'name_zh': '复购率', 'aggregation': 'ratio', 'numerator': 'repeat_customers', 'denominator': 'active_customers', 'unit': '%'},
    {'code': 'won_deals', 'name': 'Deals won', 'name_zh': '成交商机数', 'aggregation': 'count', 'source': 'won_deal', 'unit': 'opportunities'},
    {'code': 'referral_deals', 'name': 'Deals won from referrals', 'name_zh': '转介绍成交数', 'aggregation': 'count', 'source': 'referral_won', 'unit': 'opportunities'},
    {'code': 'referral_share', 'name': 'Referral share of deals', 'name_zh': '转介绍占比', 'aggregation': 'ratio', 'numerator': 'referral_deals', 'denominator': 'won_deals', 'unit': '%'},
]

metrics = sa.table(
    'metrics',
    sa.column('id', sa.BigInteger), sa.column('code', sa.String), sa.column('name', sa.String),
    sa.column('name_zh', sa.String), sa.column('aggregation', sa.String), sa.column('source', sa.String),
    sa.column('numerator_id', sa.BigInteger), sa.column('denominator_id', sa.BigInteger),
    sa.column('unit', sa.String), sa.column('scale', sa.Integer), sa.column('builtin', sa.Boolean),
)


def upgrade() -> None:
    with op.batch_alter_table('opportunities') as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=64), nullable=True))

    connection = op.get_bind()
    # One at a time, in order: a ratio refers to the ids of the counts inserted before it.
    for spec in LIFECYCLE_METRICS:
        if connection.execute(sa.select(metrics.c.id).where(metrics.c.code == spec['code'])).first() is not None:
            continue  # a metric of the user's own already has this code: keep theirs
        row = {k: spec.get(k) for k in ('code', 'name', 'name_zh', 'aggregation', 'source', 'unit')}
        row.update(scale=0, builtin=True, numerator_id=None, denominator_id=None)
        if spec['aggregation'] == 'ratio':
            ids = dict(connection.execute(
                sa.select(metrics.c.code, metrics.c.id).where(metrics.c.code.in_((spec['numerator'], spec['denominator'])))
            ).all())
            if len(ids) < 2:
                continue
            row.update(numerator_id=ids[spec['numerator']], denominator_id=ids[spec['denominator']])
        connection.execute(metrics.insert().values(**row))


def downgrade() -> None:
    connection = op.get_bind()
    # Ratios first: they refer to the counts.
    for spec in reversed(LIFECYCLE_METRICS):
        connection.execute(metrics.delete().where(metrics.c.code == spec['code'], metrics.c.builtin.is_(True)))
    with op.batch_alter_table('opportunities') as batch_op:
        batch_op.drop_column('source')
