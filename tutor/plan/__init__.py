"""A lesson's plan: the ordered steps a learner computes, each with its Formula."""
