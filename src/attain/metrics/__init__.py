"""What a target measures: revenue, gross profit, quantity, orders, new customers, user-defined."""
