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

Metrics: `repurchase_rate` becomes the seed's definition — last period's customers who bought again
÷ last period's customers (`retained_customers` / `prior_customers`, new) — and the old measure
(repeat buyers ÷ all buyers) keeps going as `repeat_buyer_share`. A metric of the user's own with
one of the new codes is kept; a repurchase_rate the user redefined (not builtin) is left alone.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
metrics = sa.table(
    'metrics',
    sa.column('id', sa.BigInteger), sa.column('code', sa.String), sa.column('name', sa.String),
    sa.column('name_zh', sa.String), sa.column('aggregation', sa.String), sa.column('source', sa.String),
    sa.column('numerator_id', sa.BigInteger), sa.column('denominator_id', sa.BigInteger),
    sa.column('unit', sa.String), sa.column('scale', sa.Integer), sa.column('builtin', sa.Boolean),
)
# A copy of the entries of attain.metrics.models.BUILTIN_METRICS this revision adds.
NEW_METRICS = (
    {'code': 'prior_customers', 'name': 'Customers of the previous period', 'name_zh': '上期成交客户数', 'aggregation': 'distinct_count', 'source': 'prior_customer', 'unit': 'customers'},
    {'code': 'retained_customers', 'name': "Previous period's customers who bought again", 'name_zh': '上期客户再购数', 'aggregation': 'distinct_count', 'source': 'retained_customer', 'unit': 'customers'},
    {'code': 'repeat_buyer_share', 'name': "Repeat buyers' share of buyers", 'name_zh': '老客户成交占比', 'aggregation': 'ratio', 'numerator': 'repeat_customers', 'denominator': 'active_customers', 'unit': '%'},
)
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
    _seed_metrics()


def _ids(connection, codes) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return dict(connection.execute(sa.select(metrics.c.code, metrics.c.id).where(metrics.c.code.in_(codes))).all())


def _seed_metrics() -> None:
    connection = op.get_bind()
    for spec in NEW_METRICS:  # in order: the ratio refers to counts inserted before it
        if connection.execute(sa.select(metrics.c.id).where(metrics.c.code == spec['code'])).first() is not None:
            continue
        row = {k: spec.get(k) for k in ('code', 'name', 'name_zh', 'aggregation', 'source', 'unit')}
        row.update(scale=0, builtin=True, numerator_id=None, denominator_id=None)
        if spec['aggregation'] == 'ratio':
            ids = _ids(connection, (spec['numerator'], spec['denominator']))
            if len(ids) < 2:
                continue
            row.update(numerator_id=ids[spec['numerator']], denominator_id=ids[spec['denominator']])
        connection.execute(metrics.insert().values(**row))
    _point_repurchase_rate(connection, 'retained_customers', 'prior_customers')


def _point_repurchase_rate(connection, numerator: str, denominator: str) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(connection, (numerator, denominator))
    if len(ids) == 2:
        connection.execute(metrics.update().where(metrics.c.code == 'repurchase_rate', metrics.c.builtin.is_(True))
                           .values(numerator_id=ids[numerator], denominator_id=ids[denominator]))


def downgrade() -> None:
    connection = op.get_bind()
    _point_repurchase_rate(connection, 'repeat_customers', 'active_customers')
    for spec in reversed(NEW_METRICS):
        connection.execute(metrics.delete().where(metrics.c.code == spec['code'], metrics.c.builtin.is_(True)))
    op.execute("DELETE FROM plan_cells WHERE customer_axis <> ''")
    op.drop_index('uq_plan_cells_key', table_name='plan_cells')
    op.create_index('uq_plan_cells_key', 'plan_cells', _OLD_KEY, unique=True)
    for table in ('plan_cell_changes', 'plan_cells'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('customer_value')
            batch.drop_column('customer_axis')
    op.drop_index('ix_customer_attributes_name_customer', table_name='customer_attributes')
    op.drop_table('customer_attributes')
