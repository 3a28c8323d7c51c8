"""Test infrastructure shared by novaweb's test suites (not tests themselves)."""
