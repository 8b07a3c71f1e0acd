"""Tables of attain.tracking (defined by the module owner; empty for now)."""
