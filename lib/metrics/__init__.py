"""Pure metrics shared by training, evaluation and retrieval benchmarks."""
