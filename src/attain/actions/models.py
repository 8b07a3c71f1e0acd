"""Tables of attain.actions (defined by the module owner; empty for now)."""
