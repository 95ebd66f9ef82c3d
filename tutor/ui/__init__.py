"""The Textual interface: a thin app, its screens and widgets, and a quiet terminal driver."""
