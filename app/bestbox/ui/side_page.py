"""A side-panel page: a vertically scrolling body on the window colour, with the panel's margins."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget

from . import theme


def scrolling_body(page: QWidget, object_name: str) -> tuple[QWidget, QVBoxLayout]:
    """Fill `page` with a scroll area and return the body widget inside it and its layout."""
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    scroll = QScrollArea(page)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    body = QWidget()
    body.setObjectName(object_name)
    body.setStyleSheet(f"#{object_name} {{ background: {theme.WINDOW}; }}")
    lay = QVBoxLayout(body)
    lay.setContentsMargins(12, 12, 12, 12)
    lay.setSpacing(10)
    scroll.setWidget(body)
    outer.addWidget(scroll)
    return body, lay
