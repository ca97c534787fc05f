"""Fixture: the runtime package the image is built for."""
