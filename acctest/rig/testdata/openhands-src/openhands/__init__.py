"""Fixture stand-in for the OpenHands package (packer-plugin-openhands tests)."""

__version__ = "0.59.0"
