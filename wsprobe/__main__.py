"""``python -m wsprobe``."""

from wsprobe.cli import main

main()
