"""Thin, swappable shells around ``modelplane_core``: they translate, never decide."""
