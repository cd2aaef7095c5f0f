"""Raw data: column names, the data contract and a synthetic data generator."""
