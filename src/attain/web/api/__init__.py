"""The versioned JSON API, `/api/v1`. Every route applies the caller's row-level access."""

from __future__ import annotations

from fastapi import APIRouter

from attain.web.api import alerts, dashboard, imports, incentives, plans, tracking

router = APIRouter(prefix="/api/v1")
router.include_router(plans.router)
router.include_router(tracking.router)
router.include_router(imports.router)
router.include_router(dashboard.router)
router.include_router(alerts.router)
router.include_router(incentives.router)

__all__ = ["router"]
