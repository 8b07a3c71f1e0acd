"""Tables of attain.auth (defined by the module owner; empty for now)."""
