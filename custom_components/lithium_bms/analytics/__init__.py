"""Derived battery values computed from successive snapshots.

This package imports nothing from Home Assistant: energy counters, a coulomb
counting state-of-charge estimator, imbalance detection and battery bank
aggregation. Timestamps are POSIX seconds (wall clock), so a state restored
after a restart can be compared with the time of the next sample.
"""
