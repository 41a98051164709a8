"""Fitting, evaluating and exporting the random forest."""
