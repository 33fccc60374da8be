"""HNTH Ops operations command line."""
