"""The web listener: the web client's files over HTTP, and the IRC door over WebSocket
(IRCv3 WebSocket transport), on one port."""
