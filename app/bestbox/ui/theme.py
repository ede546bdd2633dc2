"""Colours, fonts and the one style sheet: a calm light theme on Qt's Fusion style."""
from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from ..servers.state import info as state_info

ACCENT = "#2f6fde"
ACCENT_DARK = "#2458b8"
TEXT = "#1f2933"
MUTED = "#6b7480"
BORDER = "#e1e5ea"
WINDOW = "#f4f6f8"
PANEL = "#ffffff"
USER_BUBBLE = "#e8f0fd"
NOTE_BG = "#fff7e6"
NOTE_BORDER = "#f1d49a"
ERROR_BG = "#fdeeee"
ERROR_BORDER = "#efb8b8"
ERROR_TEXT = "#a52f2f"


def state_name(state) -> str:
    """A ServerSnapshot.state (enum or str) as its plain lower-case name."""
    v = getattr(state, "value", state)
    return str(v or "stopped").lower()


def state_style(state) -> tuple[str, str]:
    """(badge colour, label) of a server state, from the one state table (bestbox.servers.state)."""
    row = state_info(state)
    return row.colour, row.label or state_name(state).replace("_", " ").capitalize()


STYLE_SHEET = f"""
QMainWindow, QDialog {{ background: {WINDOW}; }}
QWidget {{ color: {TEXT}; }}
QToolTip {{ background: #2b323c; color: #ffffff; border: 0; padding: 5px 7px; border-radius: 4px; }}
QSplitter::handle {{ background: {BORDER}; }}
QSplitter::handle:horizontal {{ width: 1px; }}
QStatusBar {{ background: {PANEL}; border-top: 1px solid {BORDER}; }}
QStatusBar::item {{ border: 0; }}
QMenuBar {{ background: {PANEL}; border-bottom: 1px solid {BORDER}; }}
QMenuBar::item {{ padding: 4px 10px; background: transparent; }}
QMenuBar::item:selected {{ background: #eef2f7; border-radius: 4px; }}
QMenu {{ background: {PANEL}; border: 1px solid {BORDER}; padding: 4px; }}
QMenu::item {{ padding: 5px 22px 5px 22px; border-radius: 4px; }}
QMenu::item:selected {{ background: #eaf1fd; color: {TEXT}; }}
QMenu::item:disabled {{ color: #a7adb5; }}
QMenu::separator {{ height: 1px; background: {BORDER}; margin: 4px 6px; }}

QPushButton {{
  background: {PANEL}; border: 1px solid #cfd5dd; border-radius: 6px; padding: 5px 12px; min-height: 18px;
}}
QPushButton:hover {{ background: #f3f6fa; border-color: #b9c2cd; }}
QPushButton:pressed {{ background: #e8edf3; }}
QPushButton:disabled {{ color: #a7adb5; background: #f7f8fa; border-color: #e3e6ea; }}
QPushButton[primary="true"] {{ background: {ACCENT}; color: white; border: 1px solid {ACCENT}; }}
QPushButton[primary="true"]:hover {{ background: {ACCENT_DARK}; border-color: {ACCENT_DARK}; }}
QPushButton[primary="true"]:disabled {{ background: #a9c1ee; border-color: #a9c1ee; color: #f3f6fc; }}
QPushButton[danger="true"] {{ background: #d64545; color: white; border: 1px solid #d64545; }}
QPushButton[danger="true"]:hover {{ background: #bb3a3a; }}
QPushButton[flat="true"] {{ border: 0; background: transparent; color: {ACCENT}; padding: 2px 4px; }}
QPushButton[flat="true"]:hover {{ text-decoration: underline; }}

QPlainTextEdit, QTextEdit, QListWidget, QLineEdit, QComboBox {{
  background: {PANEL}; border: 1px solid {BORDER}; border-radius: 6px;
  selection-background-color: #cfe0fb; selection-color: {TEXT};
}}
QComboBox {{ padding: 3px 8px; }}
QTabWidget::pane {{ border: 0; border-top: 1px solid {BORDER}; background: {WINDOW}; }}
QTabBar::tab {{ background: transparent; padding: 7px 14px; color: {MUTED}; border: 0;
  border-bottom: 2px solid transparent; }}
QTabBar::tab:selected {{ color: {TEXT}; border-bottom: 2px solid {ACCENT}; }}
QTabBar::tab:hover {{ color: {TEXT}; }}
QProgressBar {{ border: 0; background: #e9edf2; border-radius: 3px; height: 6px; text-align: center; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QScrollArea {{ border: 0; background: transparent; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: #cdd3da; border-radius: 4px; min-height: 30px; }}
QScrollBar::handle:vertical:hover {{ background: #b5bdc7; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 2px; }}
QScrollBar::handle:horizontal {{ background: #cdd3da; border-radius: 4px; min-width: 30px; }}
QCheckBox {{ spacing: 6px; }}
"""


def base_font() -> QFont:
    f = QFont()
    f.setFamilies(["Inter", "Segoe UI", "Cantarell", "Noto Sans", "DejaVu Sans", "Sans Serif"])
    f.setPointSizeF(9.5)
    return f


def mono_font() -> QFont:
    f = QFont()
    f.setFamilies(["JetBrains Mono", "Cascadia Mono", "DejaVu Sans Mono", "Noto Mono", "Monospace"])
    f.setStyleHint(QFont.StyleHint.Monospace)
    f.setPointSizeF(8.5)
    return f


def apply(app: QApplication) -> None:
    app.setStyle("Fusion")
    pal = app.palette()
    pal.setColor(QPalette.ColorRole.Window, QColor(WINDOW))
    pal.setColor(QPalette.ColorRole.Base, QColor(PANEL))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor("#f7f9fb"))
    pal.setColor(QPalette.ColorRole.Text, QColor(TEXT))
    pal.setColor(QPalette.ColorRole.WindowText, QColor(TEXT))
    pal.setColor(QPalette.ColorRole.ButtonText, QColor(TEXT))
    pal.setColor(QPalette.ColorRole.Button, QColor(PANEL))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.Link, QColor(ACCENT))
    pal.setColor(QPalette.ColorRole.PlaceholderText, QColor("#9aa1ab"))
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor("#2b323c"))
    pal.setColor(QPalette.ColorRole.ToolTipText, QColor("#ffffff"))
    app.setPalette(pal)
    app.setFont(base_font())
    app.setStyleSheet(STYLE_SHEET)


def repolish(w) -> None:
    """Re-apply the style sheet after a dynamic property changed."""
    w.style().unpolish(w)
    w.style().polish(w)
