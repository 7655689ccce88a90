# One image for every Herald service. The default command runs them all (`herald up`);
# docker-compose.yml runs one service per container with `herald run SERVICE` / `herald migrate`.

# --- build: install the distribution (no test extras) into a self-contained virtualenv ----------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv
WORKDIR /src
# Only what the package is built from: no tests, benchmarks, local state or virtualenv.
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
RUN /opt/venv/bin/pip install .

# --- runtime: the virtualenv and nothing else; runs as an unprivileged user -------------------
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    HTTP_HOST=0.0.0.0

RUN groupadd --system --gid 10001 herald \
    && useradd --system --uid 10001 --gid herald --home-dir /app --shell /usr/sbin/nologin herald \
    && mkdir -p /app/var \
    && chown -R herald:herald /app

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
USER herald

# 8001 auth-events, 8002 notifier, 8003 scheduler (AUTH_EVENTS_PORT, NOTIFIER_PORT, SCHEDULER_PORT)
EXPOSE 8001 8002 8003

CMD ["herald", "up"]
