# A reproducible image: the base image by tag (pin it by digest in your registry:
# --build-arg PYTHON_IMAGE=python:3.12-slim-bookworm@sha256:...), every Python package at
# the version and hash in requirements.lock, taskapp itself installed without resolving.
# The embedded PostgreSQL (pgserver, the `embedded` extra) is not in it: give DATABASE_URL.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# Build stage: the locked dependencies, then taskapp, in a virtualenv.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
RUN pip install --no-deps . && pip check

# Runtime stage: the virtualenv only, run as an unprivileged user.
FROM ${PYTHON_IMAGE}
RUN useradd --create-home --uid 10001 taskapp
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    TASKAPP_DATA_DIR=/home/taskapp/data
USER taskapp
WORKDIR /home/taskapp
EXPOSE 8000
# /health/ready on whatever PORT the container is given.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-m", "taskapp.entrypoints.healthcheck"]
# `serve` migrates first (under an advisory lock) unless MIGRATE_ON_START=false: the
# compose file runs `taskapp db upgrade` once in a `migrate` service and turns it off.
CMD ["taskapp", "serve"]
