"""Offline runs through the pipeline on a throwaway Redis: `creditwatch backtest` and
`creditwatch evaluate`."""
