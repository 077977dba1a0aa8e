"""``python -m cfreplay`` runs the command line."""

from cfreplay.cli import main

raise SystemExit(main())
