"""A tool result's rows as a table: sortable by any column, copyable (selection or whole table, as
tab-separated text that pastes into a spreadsheet), money with its currency and units in the
headers; the raw JSON stays one click away."""
from __future__ import annotations

import json

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QPlainTextEdit, QPushButton,
                               QTableView, QVBoxLayout, QWidget)

from . import theme

SORT_ROLE = Qt.ItemDataRole.UserRole
CURRENCY_SIGN = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}
_MONEY_WORDS = ("spend", "amount", "total", "value", "price", "cost", "revenue", "won", "balance", "budget")
_NOT_MONEY = ("count", "_pct", "_n", "qty", "quantity", "days", "rank", "id")
_UNITS = {"_pct": "%", "_ms": "ms", "_s": "s", "_minutes": "min", "_hours": "h", "_days": "days",
          "_gb": "GB", "_mb": "MB"}
_ACRONYMS = {"po": "PO", "id": "ID", "cpu": "CPU", "sla": "SLA", "vip": "VIP", "pct": "%", "url": "URL"}
MAX_VISIBLE_ROWS = 10
MAX_COLUMN_PX = 190
MIN_TEXT_COLUMN_PX = 56


def rows_of(result) -> list[dict] | None:
    """The result's rows when it has a table to show (a non-empty list of objects)."""
    if not isinstance(result, dict):
        return None
    rows = result.get("rows")
    if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
        return rows
    return None


_NOT_FIELDS = {"row_count", "truncated", "rows_kept", "tool", "currency", "units", "columns", "citations",
               "answered", "declined", "message"}


def record_of(result) -> dict | None:
    """One record to show as (field, value) rows: the only row of a result, or the plain fields of a
    result without rows (a ticket opened, a room booked), nested objects flattened one level."""
    rows = rows_of(result)
    if rows is not None:
        return dict(rows[0]) if len(rows) == 1 else None
    if not isinstance(result, dict) or "rows" in result or "error" in result or result.get("declined"):
        return None
    out: dict = {}
    for k, v in result.items():
        if k in _NOT_FIELDS or v is None:
            continue
        if isinstance(v, dict):
            out.update({f"{k}_{sub}": x for sub, x in v.items() if not isinstance(x, (dict, list)) and x is not None})
        elif not isinstance(v, list):
            out[k] = v
    return out if len(out) >= 2 else None


def shows_table(result) -> bool:
    return rows_of(result) is not None or record_of(result) is not None


class Column:
    def __init__(self, key: str, title: str | None = None, unit: str | None = None, currency: str | None = None):
        self.key = key
        self.unit = unit
        self.currency = currency
        self.title = title or header_words(key)
        if unit and unit != "%":
            self.title += f" ({unit})"
        elif unit == "%":
            self.title += " (%)"
        elif currency:
            self.title += f" ({currency})"

    def show(self, v) -> str:
        if v is None:
            return ""
        if isinstance(v, bool):
            return "yes" if v else "no"
        if self.currency and isinstance(v, (int, float)):
            return f"{CURRENCY_SIGN.get(self.currency, self.currency + ' ')}{v:,.2f}"
        if isinstance(v, float):
            return f"{v:,.1f}" if self.unit == "%" else f"{v:,.2f}".rstrip("0").rstrip(".")
        if isinstance(v, int):
            return f"{v:,}" if abs(v) >= 10000 else str(v)
        if isinstance(v, (dict, list)):
            return json.dumps(v, ensure_ascii=False, default=str)
        return str(v)


def header_words(key: str) -> str:
    for suffix in _UNITS:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
            break
    words = [_ACRONYMS.get(w, w) for w in key.split("_") if w]
    if not words:
        return key
    first = words[0] if words[0].isupper() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def columns_for(result: dict, rows: list[dict]) -> list[Column]:
    """Columns in first-seen order. The result may name them (`columns`: names or
    {key, title, unit}) and give `units` {key: unit}; otherwise units come from the key's suffix and
    money from the result's `currency` and the key's words."""
    units = result.get("units") if isinstance(result.get("units"), dict) else {}
    currency = result.get("currency") if isinstance(result.get("currency"), str) else None
    given = result.get("columns")
    specs: list[tuple[str, str | None, str | None]] = []
    if isinstance(given, list) and given:
        for c in given:
            if isinstance(c, dict) and c.get("key"):
                specs.append((str(c["key"]), c.get("title"), c.get("unit")))
            elif isinstance(c, str):
                specs.append((c, None, None))
    else:
        seen: dict[str, None] = {}
        for r in rows:
            for k in r:
                seen.setdefault(k, None)
        specs = [(k, None, None) for k in seen]
    out = []
    for key, title, unit in specs:
        unit = unit or units.get(key) or next((u for s, u in _UNITS.items() if key.endswith(s)), None)
        is_money = (currency is not None and unit is None and any(w in key for w in _MONEY_WORDS)
                    and not any(key.endswith(n) or key.startswith(n.strip("_")) for n in _NOT_MONEY))
        out.append(Column(key, title, unit, currency if is_money else None))
    return out


class RowsModel(QAbstractTableModel):
    def __init__(self, rows: list[dict], columns: list[Column], parent=None):
        super().__init__(parent)
        self.rows = rows
        self.columns = columns

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        col = self.columns[index.column()]
        v = self.rows[index.row()].get(col.key)
        if role == Qt.ItemDataRole.DisplayRole:
            return col.show(v)
        if role == SORT_ROLE:
            # Numbers sort as numbers, text case-insensitively; empty cells last.
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return float(v)
            return "" if v is None else str(v).lower()
        if role == Qt.ItemDataRole.ToolTipRole:     # the whole text of a cell that may be elided
            text = col.show(v)
            return text if len(text) > 18 else None
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(v, (int, float)) and not isinstance(v, bool):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if orientation == Qt.Orientation.Horizontal:
                return self.columns[section].title      # the tooltip: a header cut to fit reads whole
            return str(section + 1) if role == Qt.ItemDataRole.DisplayRole else None
        return None


class ResultTable(QWidget):
    """The table, a "Copy table" button and a "Show JSON" toggle."""

    def __init__(self, result: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.result = result
        rows = rows_of(result) or []
        record = record_of(result)
        if record is not None:      # one record: a small (field, value) table, units and money as in the others
            fields = columns_for(result, [record])
            rows = [{"field": c.title, "value": c.show(record.get(c.key))} for c in fields]
            columns = [Column("field", "Field"), Column("value", "Value")]
        else:
            columns = columns_for(result, rows)
        self.record = record is not None
        self.model = RowsModel(rows, columns, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 2)
        lay.setSpacing(4)
        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # keep the tool's order until clicked
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setStyleSheet(f"QTableView {{ border: 1px solid {theme.BORDER}; background: white;"
                                f" alternate-background-color: #f7f9fb; gridline-color: {theme.BORDER}; }}")
        self.view.resizeColumnsToContents()
        self._natural = [self.view.columnWidth(c) for c in range(self.model.columnCount())]
        self.view.setMinimumWidth(120)  # never wider than the chat column
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.viewport().installEventFilter(self)   # the viewport: resized after the view's own event
        shown = min(len(rows), MAX_VISIBLE_ROWS)
        # Columns fit the width (fit_columns), so no room is kept for a horizontal scroll bar; the
        # table is no wider than its columns, so a short one does not stretch its last column.
        frame = 2 * self.view.frameWidth()
        self.view.setFixedHeight(self.view.horizontalHeader().sizeHint().height() + 24 * shown + frame + 2)
        self.view.setMaximumWidth(sum(min(w, MAX_COLUMN_PX * 2) for w in self._natural) + frame + 2)
        lay.addWidget(self.view)
        QShortcut(QKeySequence.StandardKey.Copy, self.view, self.copy_selection,
                  context=Qt.ShortcutContext.WidgetShortcut)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.copy_btn = QPushButton("Copy table", self)
        self.copy_btn.setProperty("flat", True)
        self.copy_btn.setToolTip("Copy all rows as tab-separated text (pastes into a spreadsheet); "
                                 "Ctrl+C copies the selected cells")
        self.copy_btn.clicked.connect(self.copy_all)
        self.json_btn = QPushButton("Show JSON", self)
        self.json_btn.setProperty("flat", True)
        self.json_btn.setCheckable(True)
        self.json_btn.toggled.connect(self._toggle_json)
        row.addWidget(self.copy_btn)
        row.addWidget(self.json_btn)
        row.addStretch(1)
        lay.addLayout(row)
        self.raw = QPlainTextEdit(self)
        self.raw.setReadOnly(True)
        self.raw.setFont(theme.mono_font())
        self.raw.setFixedHeight(200)
        self.raw.hide()
        lay.addWidget(self.raw)

    def eventFilter(self, obj, e) -> bool:  # noqa: N802 - Qt override: the view's own width decides
        if obj is self.view.viewport() and e.type() == QEvent.Type.Resize:
            self.fit_columns()
        return False

    def _numeric(self, c: int) -> bool:
        key = self.model.columns[c].key
        vals = [r.get(key) for r in self.model.rows if r.get(key) is not None]
        return bool(vals) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)

    def fit_columns(self) -> None:
        """Every column in view. Each column may give up what it has beyond its floor (numbers: their
        cells, so a long header elides; text: MIN_TEXT_COLUMN_PX, elided with the whole text in the
        tooltip), in proportion to that surplus, so no one column is squeezed to nothing first."""
        n = self.model.columnCount()
        if not n:
            return
        avail = self.view.viewport().width() - 2
        widths = [w if self._numeric(c) else min(w, MAX_COLUMN_PX * 2) for c, w in enumerate(self._natural)]
        floors = [min(w, self.view.sizeHintForColumn(c) + 6 if self._numeric(c) else MIN_TEXT_COLUMN_PX)
                  for c, w in enumerate(widths)]
        over = sum(widths) - avail
        surplus = sum(w - f for w, f in zip(widths, floors))
        if over > 0 and surplus > 0:
            share = min(1.0, over / surplus)
            widths = [w - int((w - f) * share + 0.999) for w, f in zip(widths, floors)]
        for c, w in enumerate(widths):
            self.view.setColumnWidth(c, w)

    def _toggle_json(self, on: bool) -> None:
        if on and not self.raw.toPlainText():
            self.raw.setPlainText(json.dumps(self.result, indent=2, ensure_ascii=False, default=str))
        self.raw.setVisible(on)
        self.json_btn.setText("Hide JSON" if on else "Show JSON")

    def table_text(self, indexes=None) -> str:
        """Tab-separated text of the given cells (all when None), in the order shown."""
        p = self.proxy
        if indexes is None:
            rows = range(p.rowCount())
            cols = range(p.columnCount())
            head = "\t".join(self.model.columns[c].title for c in cols)
            body = ["\t".join(str(p.index(r, c).data() or "") for c in cols) for r in rows]
            return "\n".join([head, *body])
        cells: dict[int, dict[int, str]] = {}
        for ix in indexes:
            cells.setdefault(ix.row(), {})[ix.column()] = str(ix.data() or "")
        cols = sorted({c for r in cells.values() for c in r})
        return "\n".join("\t".join(cells[r].get(c, "") for c in cols) for r in sorted(cells))

    def copy_all(self) -> None:
        QGuiApplication.clipboard().setText(self.table_text())
        self.copy_btn.setText("Copied")

    def copy_selection(self) -> None:
        ix = self.view.selectionModel().selectedIndexes()
        QGuiApplication.clipboard().setText(self.table_text(ix or None))
