"""The model card of each registered version (see pipeline.py)."""
