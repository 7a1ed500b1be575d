"""Simulated wired BMS: addressed responders on a bus behind a pty or TCP port."""
