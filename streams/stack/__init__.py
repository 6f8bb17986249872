"""The embedded stack behind `creditwatch up`: child processes, their supervisor, the
broker, Redis and Prometheus on this machine."""
