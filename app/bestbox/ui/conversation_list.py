"""The left column: conversations, newest first; New, search, reopen (click), rename (F2, double
click, context menu), delete (button, Delete key, context menu)."""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QMenu, QMessageBox, QPushButton, QVBoxLayout, QWidget)

from . import icons, theme

ID_ROLE = Qt.ItemDataRole.UserRole
TITLE_ROLE = Qt.ItemDataRole.UserRole + 1


def when(ts: float | None) -> str:
    if not ts:
        return ""
    t = dt.datetime.fromtimestamp(ts)
    now = dt.datetime.now()
    if t.date() == now.date():
        return t.strftime("%H:%M")
    if (now.date() - t.date()).days == 1:
        return "Yesterday"
    if (now - t).days < 7:
        return t.strftime("%A")
    return t.strftime("%d %b")


class ConversationList(QWidget):
    selected = Signal(str)
    new_requested = Signal()
    delete_requested = Signal(str)
    rename_requested = Signal(str, str)   # id, new title
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("convList")
        self.setStyleSheet(f"#convList {{ background: {theme.WINDOW}; }}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 12, 10, 10)
        lay.setSpacing(8)
        self.new_btn = QPushButton(icons.icon("plus"), "New conversation", self)
        self.new_btn.setIconSize(QSize(12, 12))
        self.new_btn.setProperty("primary", True)
        self.new_btn.setToolTip("New conversation (Ctrl+N)")
        self.new_btn.clicked.connect(self.new_requested)
        lay.addWidget(self.new_btn)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search conversations")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda t: self.search_changed.emit(t.strip()))
        lay.addWidget(self.search)
        head = QHBoxLayout()
        lbl = QLabel("Recent", self)
        lbl.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt; font-weight: 600;")
        head.addWidget(lbl)
        head.addStretch(1)
        lay.addLayout(head)
        self.list = QListWidget(self)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setStyleSheet(
            "QListWidget { background: transparent; border: 0; outline: 0; }"
            "QListWidget::item { padding: 7px 8px; border-radius: 6px; margin: 1px 0; }"
            "QListWidget::item:hover { background: #e9edf2; }"
            f"QListWidget::item:selected {{ background: #dfe8f8; color: {theme.TEXT}; }}")
        self.list.itemClicked.connect(self._clicked)
        self.list.itemChanged.connect(self._renamed)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.DoubleClicked)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        lay.addWidget(self.list, 1)
        self.empty = QLabel("Your conversations will appear here.", self)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(f"color: {theme.MUTED}; padding: 4px;")
        lay.addWidget(self.empty)
        self.delete_btn = QPushButton("Delete conversation", self)
        self.delete_btn.setProperty("flat", True)
        self.delete_btn.setToolTip("Delete the selected conversation (Delete key)")
        self.delete_btn.clicked.connect(self._delete_current)
        self.delete_btn.hide()
        lay.addWidget(self.delete_btn, 0, Qt.AlignmentFlag.AlignLeft)
        self.list.currentItemChanged.connect(lambda cur, _p: self.delete_btn.setVisible(cur is not None))

    def set_conversations(self, convs: list[dict], current: str | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for c in convs:
            title = c.get("title") or "New conversation"
            it = QListWidgetItem(f"{title}")
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsEditable)
            it.setData(ID_ROLE, c["id"])
            it.setData(TITLE_ROLE, title)
            it.setToolTip(f"{title}\n{when(c.get('updated_at'))}")
            it.setSizeHint(QSize(0, 32))
            self.list.addItem(it)
            if c["id"] == current:
                self.list.setCurrentItem(it)
        self.list.blockSignals(False)
        searching = bool(self.search.text().strip())
        self.empty.setText("No conversation matches." if searching else "Your conversations will appear here.")
        self.empty.setVisible(not convs)
        self.delete_btn.setVisible(self.list.currentItem() is not None)

    def ids(self) -> list[str]:
        return [self.list.item(i).data(ID_ROLE) for i in range(self.list.count())]

    def select(self, cid: str | None) -> None:
        self.list.blockSignals(True)
        self.list.clearSelection()
        self.list.setCurrentItem(None)
        for i in range(self.list.count()):
            if self.list.item(i).data(ID_ROLE) == cid:
                self.list.setCurrentRow(i)
        self.list.blockSignals(False)
        self.delete_btn.setVisible(self.list.currentItem() is not None)

    def _renamed(self, item: QListWidgetItem) -> None:
        title = " ".join(item.text().split())
        old = item.data(TITLE_ROLE)
        if title == old:
            return
        if not title:  # an empty title is not a rename: put the old one back
            self.list.blockSignals(True)
            item.setText(old)
            self.list.blockSignals(False)
            return
        item.setData(TITLE_ROLE, title)
        self.rename_requested.emit(item.data(ID_ROLE), title)

    def rename_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _clicked(self, item: QListWidgetItem) -> None:
        self.selected.emit(item.data(ID_ROLE))

    def _menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        m = QMenu(self)
        m.addAction("Open", lambda: self.selected.emit(item.data(ID_ROLE)))
        m.addAction("Rename…", lambda: self.list.editItem(item))
        m.addAction("Delete…", lambda: self._confirm_delete(item))
        m.exec(self.list.mapToGlobal(pos))

    def keyPressEvent(self, e) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Delete:
            self._delete_current()
            return
        super().keyPressEvent(e)

    def _delete_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._confirm_delete(item)

    def ask_delete(self, title: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Delete conversation",
                          f"Delete “{title}”? This cannot be undone.", QMessageBox.StandardButton.NoButton, self)
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is delete

    def _confirm_delete(self, item: QListWidgetItem) -> None:
        if self.ask_delete(item.text()):
            self.delete_requested.emit(item.data(ID_ROLE))
