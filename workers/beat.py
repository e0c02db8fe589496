"""The periodic schedule: `celery -A workers.beat beat`. Rows + beat; tasks lock themselves."""

from celery.schedules import crontab

from workers.celery_app import celery

# Each domain adds its entries here (name -> {"task": ..., "schedule": ...}).
celery.conf.beat_schedule = {}

__all__ = ["celery", "crontab"]
