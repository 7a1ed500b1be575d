"""Protocol-level tests: no Home Assistant."""
