"""Benchmark and long-run scenarios in Home Assistant (see docs/performance.md)."""
