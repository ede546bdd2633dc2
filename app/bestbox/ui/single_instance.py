"""One BestBox window per user and config: a second launch shows the running window and exits,
instead of starting a second app that would fight the first over the same servers."""
from __future__ import annotations

import hashlib
import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket


def instance_name(config_path) -> str:
    digest = hashlib.sha1(str(os.path.realpath(str(config_path))).encode()).hexdigest()[:10]
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return f"bestbox-{uid}-{digest}"


class SingleInstance(QObject):
    activated = Signal()  # another launch asked us to show the window

    def __init__(self, config_path, parent: QObject | None = None):
        super().__init__(parent)
        self.name = instance_name(config_path)
        self.server: QLocalServer | None = None

    def claim(self) -> bool:
        """True: we are the first (and now listen). False: one is running and was told to show."""
        sock = QLocalSocket()
        sock.connectToServer(self.name)
        if sock.waitForConnected(500):
            sock.write(b"show\n")
            sock.flush()
            sock.waitForBytesWritten(500)
            sock.disconnectFromServer()
            return False
        QLocalServer.removeServer(self.name)  # a stale socket from a crashed run
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._on_connection)
        return self.server.listen(self.name) or True

    def _on_connection(self) -> None:
        while self.server is not None and self.server.hasPendingConnections():
            conn = self.server.nextPendingConnection()
            conn.readyRead.connect(lambda c=conn: self._read(c))
            conn.disconnected.connect(conn.deleteLater)

    def _read(self, conn: QLocalSocket) -> None:
        if b"show" in bytes(conn.readAll()):
            self.activated.emit()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
