"""Forms of the inventory app (the admin's editable parts)."""
