"""Users, roles, sessions, API tokens and row-level access (issue 7)."""
