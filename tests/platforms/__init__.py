"""Tests of each platform, run over every family."""
