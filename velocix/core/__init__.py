"""Velocix core: application, routing, requests, responses and their helpers.

Kept import-light on purpose: importing ``velocix.core.response`` (the seed's documented path)
must not pull in the application or the router. Import from the submodules, or from ``velocix``.
"""
