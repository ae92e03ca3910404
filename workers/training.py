"""Fine-tuning and evaluation tasks, on the training queue."""
