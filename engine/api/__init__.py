"""The HTTP layer: validate, call the decision service, map errors. Nothing else.

``create_app()`` (``engine.api.app``) builds the FastAPI application; its lifespan builds
the runtime (model, rules, stores, keys) once. Routes live one resource per module in
``engine.api.routes``; their request and response schemas in ``engine.api.schemas``.
"""
