"""Test-only oracles: earlier, simpler implementations kept to check the fast ones."""
