"""Judging recommendation lists on held-out viewings, against baselines."""
