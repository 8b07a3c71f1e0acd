"""jobs.worker: which process runs an in-process (thread) job

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

A thread job whose process has died (out of memory, killed) stays "running" for ever unless someone
can tell that its process is gone: `attain.web.jobs` records host, pid and the process's start
time here, and fails the job when that process no longer exists.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs') as batch_op:
        batch_op.drop_column('worker')
