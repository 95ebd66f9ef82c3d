"""Names shared by the lesson format, the engine and the plan, kept in one place."""

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear", "softmax")
LOSSES = ("half_sse", "mse", "cross_entropy", "binary_cross_entropy")
PHASES = ("forward", "error", "output layer", "hidden layer", "update")
FORMS = ("auto", "paths", "delta")

#: Names a lesson may not give to a unit, weight or bias, because formulas and answers use them.
RESERVED = frozenset(
    {"e", "exp", "ln", "log", "sqrt", "eta", "tanh", "max", "step", "sigma", "total"}
)


def suggest(word: str, choices: list[str] | set[str]) -> str | None:
    """The closest known name, for 'did you mean ...?' messages (case slips first)."""
    import difflib

    options = sorted(choices)
    folded = [c for c in options if c.lower() == word.lower()]
    if folded:
        return folded[0]
    close = difflib.get_close_matches(word, options, n=1)
    return close[0] if close else None
