"""Training: the point-in-time training set, the model, its evaluation and registration."""
