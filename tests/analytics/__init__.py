"""Tests of the analytics package (no Home Assistant)."""
