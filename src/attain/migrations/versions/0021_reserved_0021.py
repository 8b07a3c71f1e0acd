"""Reserved revision 0021 (filled in by the work that needs it; a no-op until then)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""
from __future__ import annotations

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
