"""Dataset generation tasks, on the llm queue."""
