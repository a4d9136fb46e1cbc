"""``python -m ufm``: the same command line as the ``ufm`` script."""

from ufm.cli import main

main()
