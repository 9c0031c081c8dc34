#!/usr/bin/env bash
# Serve the hub on 127.0.0.1:8000 with tasks running.
# Without REDIS_URL tasks run in-process; with it a Celery worker (with beat) runs beside
# the web server and both stop together.
set -euo pipefail
PY=${1:-.venv/bin/python}
ADDR=${MODELHUB_ADDR:-127.0.0.1:8000}
if [ -n "${REDIS_URL:-}" ]; then
  "$PY" -m celery -A workers worker --beat --loglevel INFO --concurrency 2 &
  worker=$!
  trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
fi
echo "Modelhub on http://$ADDR  (readiness: http://$ADDR/readyz)"
"$PY" manage.py runserver "$ADDR" --noreload
