"""The service's state behind small interfaces: features, counters, decision log.

Each interface has an in-process implementation (the embedded default: quickstart, unit
tests) and a shared one (Redis, SQL) for several replicas; ``engine.stores.factory``
chooses by settings. Importing this package does nothing; each module imports its client
library itself, so the pure decision core never pulls in Redis or SQL.
"""
