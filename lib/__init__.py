"""Twinsite's framework-free core: text processing, packaged-model locators, shared errors and metrics.

Nothing under lib/ imports Django or an app (a contract checked by import-linter in `make test`), so
training/, workers, scripts and DB-free tests all use it alike.
"""
