"""Scoring users against unseen films and keeping the top N."""
