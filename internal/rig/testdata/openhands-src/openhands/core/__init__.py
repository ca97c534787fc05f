"""Fixture: core package."""
