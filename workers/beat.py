"""The periodic schedule: `celery -A workers.beat beat`. Rows + beat; tasks lock themselves."""

from celery.schedules import crontab

from workers.celery_app import celery

# Each domain adds its entries here (name -> {"task": ..., "schedule": ...}).
celery.conf.beat_schedule = {}
celery.conf.beat_schedule.update({
    "webhooks-sweep-inbox": {"task": "workers.tasks.webhooks.sweep_inbox", "schedule": 60.0},
    "webhooks-resync-subscriptions": {"task": "workers.tasks.webhooks.resync_subscriptions",
                                      "schedule": crontab(hour=3, minute=17)},
    "webhooks-mark-delinquent-churn": {"task": "workers.tasks.webhooks.mark_delinquent_churn",
                                       "schedule": crontab(hour=4, minute=7)},
})
celery.conf.beat_schedule.update({
    # hourly, recognising through *yesterday in the outlet's zone*: the local day closes
    # within the hour whatever the zone; re-runs post nothing
    "reports-recognize-revenue": {"task": "workers.tasks.reports.recognize_revenue", "schedule": crontab(minute=41)},
    # hourly after recognition: rolls months that closed since, re-rolls months late changes marked
    "reports-rollup-closed-months": {"task": "workers.tasks.reports.rollup_closed_months",
                                     "schedule": crontab(minute=51)},
})
celery.conf.beat_schedule.update({
    "newsletters-start-due": {"task": "workers.tasks.newsletters.start_due_campaigns", "schedule": 60.0},
    "newsletters-sweep-stuck": {"task": "workers.tasks.newsletters.sweep_stuck_deliveries", "schedule": 60.0},
    "newsletters-read-bounces": {"task": "workers.tasks.newsletters.read_bounce_mailbox", "schedule": 300.0},
})

celery.conf.beat_schedule.update({
    "mail-schedule-notices": {"task": "workers.tasks.mail.schedule_notices", "schedule": 300.0},
    "mail-alert-closing-windows": {"task": "workers.tasks.mail.alert_closing_windows", "schedule": 900.0},
    "mail-check-expiring-cards": {"task": "workers.tasks.mail.check_expiring_cards",
                                  "schedule": crontab(hour=9, minute=23)},
})
celery.conf.beat_schedule.update({
    # hourly: announced price changes whose date has come (paced, bounded; re-runs change nothing)
    "billing-apply-price-changes": {"task": "workers.tasks.billing.apply_price_changes",
                                    "schedule": crontab(minute=13)},
})
celery.conf.beat_schedule.update({
    # outbound webhooks: lines whose head is due (retries past the short countdowns, lost messages)
    "integrations-sweep-outbound": {"task": "workers.tasks.integrations.sweep_outbound", "schedule": 30.0},
})

__all__ = ["celery", "crontab"]
