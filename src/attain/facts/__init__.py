"""Facts imported from ERP/CRM: order lines, opportunities and activities."""
