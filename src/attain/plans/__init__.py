"""Target plans and their cells."""
