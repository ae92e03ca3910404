"""Hybrid retrieval over chunks: HNSW cosine search and full-text search, fused by weighted RRF.

Callers use the facade, ``apps.documents.selectors``; the modules here hold one concern each.
"""
