"""Names shared by the lesson format, the engine and the plan, kept in one place."""

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear", "softmax")
LOSSES = ("half_sse", "mse", "cross_entropy", "binary_cross_entropy")
PHASES = ("forward", "error", "output layer", "hidden layer", "update")
FORMS = ("auto", "paths", "delta")

#: Names a lesson may not give to a unit, weight or bias, because formulas and answers use them.
RESERVED = frozenset({"e", "exp", "ln", "log", "sqrt", "eta", "tanh", "max", "step", "sigma"})
