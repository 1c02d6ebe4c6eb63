"""The pure decision core: features in, ranked actions out.

Nothing here performs I/O. Stores, models and rule sets are passed in by the caller;
an import contract (see pyproject.toml) keeps web frameworks, Redis and SQL clients out.
"""
