"""Import every model so that `Base.metadata` knows all tables (Alembic and tests use this)."""

from attain.catalog.models import Customer, ProductNode
from attain.db import Base
from attain.facts.models import Activity, Opportunity, OpportunityStageChange, OrderLine
from attain.imports.models import ImportRun
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.plans.models import Plan, PlanCell

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
]
