"""Attainment tracking, forecasting, leaderboard, diagnosis and alerts (issue 6)."""
