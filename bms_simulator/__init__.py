"""Simulated BMS devices that speak the real protocols, as bleak backends.

Not shipped with the integration: tests and the development Home Assistant
use it so that no Bluetooth hardware is needed.
"""
