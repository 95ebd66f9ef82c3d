"""Grading: parse answers, compare them, carry errors forward, diagnose and hint. No Textual."""
