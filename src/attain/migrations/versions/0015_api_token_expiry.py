"""api_tokens.expires_at: API tokens expire (`attain user token NAME --days N`, default 90)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

Issue 20 #12: tokens never expired. A token past `expires_at` is refused (401). Tokens made before
this revision get 90 days from the upgrade, so no script stops working the moment it is applied.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

EXISTING_TOKEN_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    tokens = sa.table('api_tokens', sa.column('expires_at', sa.DateTime))
    until = datetime.now().replace(microsecond=0) + timedelta(days=EXISTING_TOKEN_DAYS)
    op.execute(tokens.update().where(tokens.c.expires_at.is_(None)).values(expires_at=until))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('expires_at')
