"""Dramatiq middleware, one cross-cutting concern per module."""
