"""Import every model so that `Base.metadata` knows all tables (Alembic and tests use this)."""

# Modules that own further tables register them on import.
import attain.actions.models
import attain.auth.models
import attain.calendars.models
import attain.credit.models
import attain.incentives.models
import attain.market.models
import attain.tracking.models  # noqa: F401
from attain.catalog.models import Customer, ProductNode
from attain.db import Base
from attain.facts.models import Activity, Opportunity, OpportunityStageChange, OrderLine
from attain.imports.models import ImportRun
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.plans.models import Plan, PlanCell
from attain.settings.models import Setting

__all__ = [
    "Activity",
    "Base",
    "Customer",
    "ImportRun",
    "Metric",
    "Opportunity",
    "OpportunityStageChange",
    "OrderLine",
    "OrgNode",
    "Plan",
    "PlanCell",
    "ProductNode",
    "Setting",
]
