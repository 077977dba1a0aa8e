"""``python -m cfreplay`` runs the command line."""

from cfreplay.commands.cli import main

raise SystemExit(main())
