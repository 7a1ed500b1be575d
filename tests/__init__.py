"""Tests of the Lithium BMS integration."""
