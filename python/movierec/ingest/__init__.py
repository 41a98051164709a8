"""Readers of public datasets, shaped for the raw contract."""
