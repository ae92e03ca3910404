"""Framework-free text processing of the feature pipeline: cleaning, chunking, hashing, near-duplicates.

Nothing here imports Django, so it runs in workers, scripts and DB-free tests alike.
"""
