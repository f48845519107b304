"""A helper library for test firmware."""
