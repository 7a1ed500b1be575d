"""End-to-end tests of what only one family does."""
