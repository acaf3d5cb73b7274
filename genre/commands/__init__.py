"""Sub-commands of ``python -m genre``; each module here is one command."""
