"""Bringing ERP/CRM exports into Attain: reading files, recognising columns, validating, bulk writing."""
