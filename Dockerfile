# The retention engine image: configuration by environment only, runs as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# LightGBM needs the OpenMP runtime.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY training ./training
COPY retention ./retention
COPY rules ./rules
RUN pip install .

RUN useradd --create-home --uid 10001 retention
USER retention
WORKDIR /home/retention

ENTRYPOINT ["retention"]
CMD ["--help"]
