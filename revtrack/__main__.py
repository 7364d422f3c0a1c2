"""``python -m revtrack`` runs the command-line interface."""

from revtrack.cli import main

main()
