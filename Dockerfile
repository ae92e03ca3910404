# One image for web, worker and beat; the command picks the role (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles

RUN apt-get update \
    && apt-get install -y --no-install-recommends git curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-nodeps.txt ./
# Optional extra index for CPU-only torch wheels (a much smaller image): --build-arg TORCH_INDEX_URL=...
ARG TORCH_INDEX_URL=""
RUN pip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} -r requirements.txt \
    && pip install --no-deps -r requirements-nodeps.txt

COPY . .
RUN useradd --create-home --uid 1000 twinsite \
    && mkdir -p /data \
    && chown -R twinsite /data /app
USER twinsite
# collectstatic needs settings but no database: point them at a dummy URL for the build step.
RUN DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 SECRET_KEY=build-only \
    python manage.py collectstatic --noinput

EXPOSE 8000
CMD ["python", "-m", "uvicorn", "twinsite.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
