"""Implementations of the application's ports, each named for its technology."""
