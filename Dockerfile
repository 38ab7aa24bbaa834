# Meridian's image: one image for web (gunicorn), worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 meridian
WORKDIR /app

# Requirements first, so a code change does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic only imports settings; the values below exist for this step and are never used at run time.
RUN DEBUG=0 SECRET_KEY=collectstatic-build-only ALLOWED_HOSTS=localhost \
        REDIS_URL=redis://build-only EMAIL_URL=dummymail:// SITE_URL=http://build-only \
        DEFAULT_FROM_EMAIL=build-only@example.org \
        INTAKE_ENCRYPTION_KEYS=collectstatic-build-only-key-never-used-000= \
        python manage.py collectstatic --noinput \
    && mkdir -p var \
    && chown meridian:meridian var

USER meridian
EXPOSE 8000
CMD ["gunicorn", "backend.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
