"""Scheduling's HTTP routes (besides the kit's health, metrics and AsyncAPI)."""
