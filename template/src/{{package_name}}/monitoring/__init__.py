"""Monitoring: feature, prediction and label drift, performance, reports and retraining."""
