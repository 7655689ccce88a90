"""Measurements of a running Herald; scripts, not tests (run with ``python -m bench.NAME``)."""
