"""Tables of attain.credit (defined by the module owner; empty for now)."""
