"""Wired BMS links: serial ports (local or network) through serialx."""
