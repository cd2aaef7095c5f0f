"""Validation: compliance checks, metric thresholds and the champion/baseline comparison."""
