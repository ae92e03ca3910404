"""Training runs, the model versions they produce, and their evaluations."""
