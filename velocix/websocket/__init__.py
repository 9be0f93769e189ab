"""WebSocket support: the connection object, its states and its exceptions."""

from velocix.core.exceptions import WebSocketException
from velocix.websocket.websocket import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketException", "WebSocketState"]
