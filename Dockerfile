# One image for every service; compose picks the service with `faststream run services.<name>.app:create_app`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The locked dependencies in a layer of their own, before the source: a change to the code reuses it. Each file is
# checked against the lock's hashes; the lock pins pip and the build backend too.
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip install --require-hashes -r requirements/runtime.txt
COPY . .
# --no-deps: every dependency came from the lock above; --no-build-isolation: built with the locked setuptools.
RUN pip install --no-deps --no-build-isolation . \
    && pip check \
    && useradd --system --uid 10001 --home-dir /app --no-create-home app \
    && mkdir -p /var/lib/lhl/keys /var/lib/lhl/audit-checkpoints \
    && chown -R app /var/lib/lhl
# Docker fills an empty named volume from the image's mount point, owner included: without this the keys and
# checkpoint volumes would be root's, and the service (uid 10001) could not write its checkpoints.

# The services need no write access to the code; running unprivileged limits what a compromised handler can do.
USER app

CMD ["faststream", "run", "services.meetings.app:create_app", "--factory"]
