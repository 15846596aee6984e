"""The first run: an empty library offers the demo library or a folder of the musician's own."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton


class WelcomeBanner(QFrame):
    demo_requested = Signal()
    folder_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        text = QLabel("Your library is empty. Try the bundled demo library of loops and one-shots, "
                      "or add a folder of your own samples.")
        text.setWordWrap(True)
        self.demo = QPushButton("Try the demo library")
        self.demo.clicked.connect(self.demo_requested)
        self.folder = QPushButton("Add a folder…")
        self.folder.clicked.connect(self.folder_requested)
        layout = QHBoxLayout(self)
        layout.addWidget(text, 1)
        layout.addWidget(self.demo)
        layout.addWidget(self.folder)
