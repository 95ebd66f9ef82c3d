"""Lessons: the model (``model``), reading a lesson file (``reader``, ``network``,
``sections``, ``fields``) and drawing a variant's numbers (``variants``)."""
