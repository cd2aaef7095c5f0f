"""Deployment: alias-based promotion and rollback, and the optional serving endpoint."""
