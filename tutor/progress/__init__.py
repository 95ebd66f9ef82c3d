"""A learner's progress: the store and its interface (``store``), the step records and
their one vocabulary (``records``), and the reports read from them (``report``)."""
