# The retention decision service. Configuration by environment only (RETENTION_*, and
# MLFLOW_TRACKING_URI for a registry); see engine/core/config.py for every variable.
#   docker build -t retention .
#   docker run -p 8000:8000 -e RETENTION_REDIS_URL=redis://redis:6379/0 \
#     -e RETENTION_DATABASE_URL=postgresql+psycopg://... -e MLFLOW_TRACKING_URI=http://mlflow:5000 \
#     -e RETENTION_KEYS_FILE=/run/secrets/retention-keys.json retention
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libgomp1: LightGBM's OpenMP runtime. Not pinned (hadolint DL3008): Debian removes superseded
# versions from its mirror, so a pin breaks the build at the next security update.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 retention \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin retention

WORKDIR /app
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY training ./training
COPY retention ./retention
COPY rules ./rules
RUN pip install --no-cache-dir . \
    && mkdir -p /data \
    && chown retention:retention /data

USER 10001:10001
WORKDIR /data
ENV RETENTION_RULES_PATH=/app/rules/retention.yaml \
    RETENTION_DATABASE_URL=sqlite:////data/retention-decisions.db \
    RETENTION_KEYS_FILE=/data/retention-keys.json

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]

ENTRYPOINT ["uvicorn", "--factory", "engine.api.app:create_app", "--host", "0.0.0.0", "--port", "8000", "--no-access-log"]
