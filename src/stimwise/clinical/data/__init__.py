"""Packaged clinical data: screening rules and placement templates."""
