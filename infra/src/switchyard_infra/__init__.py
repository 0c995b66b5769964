"""Switchyard's production tooling: templates, reproducible builds, deploys."""
