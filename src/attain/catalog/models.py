"""Products (product line → product, any depth), customers and their effective-dated attributes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from attain.db import Base
from attain.types import BigId

CUSTOMER_TYPES = ("new", "existing")
GRADES = ("A", "B", "C")


class ProductNode(Base):
    __tablename__ = "product_nodes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # id in another system
    name: Mapped[str] = mapped_column(String(200))
    # "line" for product lines (and any grouping level), "product" for sellable items.
    kind: Mapped[str] = mapped_column(String(16), default="product")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("product_nodes.id"), index=True)
    path: Mapped[str] = mapped_column(String(512), index=True, default="/")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    launched_on: Mapped[date | None] = mapped_column(Date)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint(f"customer_type IS NULL OR customer_type IN {CUSTOMER_TYPES}", name="customer_type"),
        CheckConstraint(f"grade IS NULL OR grade IN {GRADES}", name="grade"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # id in another system
    name: Mapped[str] = mapped_column(String(200))
    # Set only to override the type derived from first_order_date (see catalog.calc).
    customer_type: Mapped[str | None] = mapped_column(String(16))
    grade: Mapped[str | None] = mapped_column(String(1))
    segment: Mapped[str | None] = mapped_column(String(100))
    industry: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    first_order_date: Mapped[date | None] = mapped_column(Date)


class CustomerAttribute(Base):
    """One value of one customer attribute over a span of time: the history of a customer's grade,
    segment, RFM class, channel, or any column imported beside the built-in ones. A row is in force
    on days in [valid_from, valid_to) (valid_from NULL: since always; valid_to NULL: still).

    The built-in columns of `customers` (segment, grade, industry, city) hold the current value;
    a figure by one of them on a past day reads the row in force that day (`catalog.dimensions`)."""

    __tablename__ = "customer_attributes"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from", name="date_range"),
        Index("ix_customer_attributes_name_customer", "name", "customer_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(String(200))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(32))  # import | grading | manual
