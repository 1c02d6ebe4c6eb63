"""The decision service around the pure core: models, features, counters, log, consistency.

``engine.decision`` decides without I/O; this package does the I/O around it, once per
request: it reads the feature store, scores with the live model bundle, reads and reserves
counters, reuses a consistent answer when there is one, and writes the decision log. The
HTTP layer (``engine.api``) only validates, calls ``DecisionService`` and maps errors.
"""
