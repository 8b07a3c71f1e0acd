"""alert_rules: kind ytd_below_pct (year-to-date attainment) and the default rule ytd_low

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Issue 19: a rep at 47 % of their year-to-date target in December was never flagged (the monthly
rules look at the month only). The new kind reads tracking's attainment over the fiscal year to
as-of; `ytd_low` (below 80 % from the 20th working day of the year, at most once a month) is
seeded like the rules of 0006.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_KINDS_BEFORE = "kind IN ('pace_gap_below', 'no_new_lead_days', 'forecast_below_pct')"
_KINDS_AFTER = "kind IN ('pace_gap_below', 'no_new_lead_days', 'forecast_below_pct', 'ytd_below_pct')"


def upgrade() -> None:
    with op.batch_alter_table('alert_rules') as batch:
        batch.drop_constraint(op.f('ck_alert_rules_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_alert_rules_kind'), _KINDS_AFTER)
    rules = sa.table('alert_rules', sa.column('code', sa.String), sa.column('kind', sa.String),
                     sa.column('threshold', sa.Numeric), sa.column('min_working_day', sa.Integer),
                     sa.column('days', sa.Integer), sa.column('grain', sa.String), sa.column('level', sa.String),
                     sa.column('node_id', sa.Integer), sa.column('enabled', sa.Boolean))
    taken = op.get_bind().execute(sa.text("SELECT 1 FROM alert_rules WHERE code = 'ytd_low'")).first()
    if taken is None:  # a company may have made its own rule of that name
        op.bulk_insert(rules, [{'code': 'ytd_low', 'kind': 'ytd_below_pct', 'threshold': 0.8, 'min_working_day': 20,
                                'days': None, 'grain': 'month', 'level': 'rep', 'node_id': None, 'enabled': True}])


def downgrade() -> None:
    op.execute("DELETE FROM alert_events WHERE rule_id IN (SELECT id FROM alert_rules WHERE kind = 'ytd_below_pct')")
    op.execute("DELETE FROM alert_rules WHERE kind = 'ytd_below_pct'")
    with op.batch_alter_table('alert_rules') as batch:
        batch.drop_constraint(op.f('ck_alert_rules_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_alert_rules_kind'), _KINDS_BEFORE)
