"""``python -m coach``: the same as the ``coach`` command."""

from coach.app.cli import main

main()
