"""Company-wide settings (fiscal year start, crediting defaults, ...) stored as JSON by key."""
