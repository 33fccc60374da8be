PRODUCER = "registration"
"""Who registration's events name as their producer (and the `source` of its own meetings)."""
