"""Gunicorn settings for the web process. Gunicorn reads ./gunicorn.conf.py by itself, so
the Procfile, `make run` and bench/webhooks.py all run with these; command-line flags
still override them.

Why these numbers (measured with bench/webhooks.py, 16 keep-alive connections, 2 cores):
- gthread with 4 threads: the app waits on PostgreSQL's commit and Redis; more threads
  per worker only add GIL contention (3, 4 and 6 measured the same).
- worker_connections = 2 x threads: a worker holds at most 4 connections in service and
  4 kept alive, then stops accepting, so the workers sharing one listening socket take
  long-lived connections evenly. Without the cap one worker took them all; with
  --reuse-port the kernel's hash split them 56/44 to 74/26 from run to run and acceptance
  swung from 942 to 1,532 events/s. With the cap: 50/50, about 1,400/s, p99 24 ms.
  Behind the production proxy (README) these are proxy-to-app connections, not readers'.

logger_class: the access log must not record sign-in, confirmation and unsubscribe
tokens (`/signin/<token>`, `/confirm/<token>`, `/u/<token>`, also in Referer);
membership/web/access_log.py replaces them with `<redacted>`.
"""

worker_class = "gthread"
threads = 4
worker_connections = 2 * threads
logger_class = "membership.web.access_log.ScrubbingLogger"
