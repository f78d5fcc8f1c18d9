"""Where the API, which asks for jobs, and the workers, which run them, meet: the named RQ queues
and the dispatcher that hands committed jobs to them (`queues`), and what a job needs to open
its own unit of work (`runtime`). `api/` and `workers/` import this, never each other."""
