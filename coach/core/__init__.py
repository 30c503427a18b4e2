"""The pure core: every decision the coach makes, on numpy and the standard library only."""
