"""The tutor's screens: picker, quiz, summary and help."""
