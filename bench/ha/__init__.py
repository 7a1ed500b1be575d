"""Benchmark parts that run inside Home Assistant's test harness (through pytest)."""
