"""Background jobs: queues, jobs, mail transport and schedule."""
