"""Celery workers: the entry point and every task. Tasks are thin: ids in, a service call."""
