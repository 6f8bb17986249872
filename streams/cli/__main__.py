"""`python -m streams.cli`: the `creditwatch` command."""

from streams.cli.main import main

raise SystemExit(main())
