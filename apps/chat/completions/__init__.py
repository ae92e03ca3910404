"""The OpenAI-compatible API (/v1): the twins as models, and chat completions answered by the RAG graph."""
