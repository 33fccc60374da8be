"""The operator console: pages for the duty officer, read from the services' HTTP APIs."""
