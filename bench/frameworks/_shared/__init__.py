"""What every framework package shares: the contract's constants (:mod:`.contract`), the world
table reader (:mod:`.world`), hand-written ASGI middleware (:mod:`.asgi_middleware`) and the
conformance endpoints' helpers (:mod:`.conformance`)."""
