"""`creditwatch bench` (the pipeline end to end) and `creditwatch bench-api` (lookups
under load), with their baselines, phases and report."""
