"""Names shared by the lesson format, the plan and the screens, kept in one place.
(Activations and losses are named by their records in ``tutor.activations``.)"""

FORMS = ("auto", "paths", "delta")

#: Names a lesson may not give to a unit, weight or bias, because formulas and answers use them.
RESERVED = frozenset(
    {
        "e",
        "exp",
        "ln",
        "log",
        "sqrt",
        "erf",
        "eta",
        "lambda",
        "mu",
        "tanh",
        "max",
        "step",
        "sigma",
        "total",
    }
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


PHASE_TITLES = {
    "forward": "Forward pass",
    "error": "Error",
    "output layer": "Backward pass: output layer",
    "hidden layer": "Backward pass: hidden layer",
    "update": "Updates",
    "batch": "Batch: loss, gradients and updates",
}


#: the step id of the L2 weight-decay term of the loss
DECAY_TERM = "E_decay"
#: the step id of a mini-batch's loss (the mean or the sum of its examples' E_total)
BATCH_LOSS = "E_batch"
#: the given names of the weight-decay strength and the momentum
LAMBDA_NAMES = ("lambda", "λ")
MU_NAMES = ("mu", "μ")


def velocity_name(param: str) -> str:
    """The given velocity of a weight or bias before the step (momentum): ``v_w5``."""
    return f"v_{param}"


def pass_tag(k: int) -> str:
    """The tag of the k-th hand-worked iteration's step ids (k from 1): none for the first,
    ``#2`` for the second (``sum_h1#2``, ``dE_total/dw5#2``)."""
    return "" if k <= 1 else f"#{k}"


def example_tag(k: int) -> str:
    """The tag of the k-th example of a mini-batch (k from 1): ``sum_h1[2]``."""
    return f"[{k}]"


def tag_words(tag: str) -> str:
    """What a tag means, for headings: ``#2`` → ``pass 2``, ``[1]`` → ``example 1``."""
    if tag.startswith("#"):
        return f"pass {tag[1:]}"
    if tag.startswith("["):
        return f"example {tag[1:-1]}"
    return ""


def label_for(step_id: str) -> str:
    """The display label: ``dE_total/dw5`` → ``∂E_total/∂w5``, ``delta_o1`` → ``δ_o1``."""
    if "/" in step_id:
        num, den = step_id.split("/", 1)
        if num.startswith("d") and den.startswith("d"):
            return f"∂{num[1:]}/∂{den[1:]}"
    if step_id.startswith("delta_"):
        return "δ_" + step_id[6:]
    return step_id
