# Build stage: a wheel with its dependencies in a virtualenv.
FROM python:3.12-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
RUN pip install --no-cache-dir .

# Runtime stage: the virtualenv only, run as an unprivileged user.
FROM python:3.12-slim
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
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/ready').status == 200 else 1)"
CMD ["sh", "-c", "taskapp db upgrade && exec taskapp serve"]
