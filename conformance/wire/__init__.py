"""Over-the-wire clients: a strict raw-socket HTTP/1.1 client and WebSocket helpers."""
