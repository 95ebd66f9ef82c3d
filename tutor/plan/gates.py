"""The steps of a computational-graph lesson: each gate's value forward, then backward, gate
by gate from the output, each gate's local gradients and the gradient of the output with
respect to each of its inputs (the upstream gradient, ∂f/∂node). Every step is a Formula over
the earlier ones, so carried errors, hints and breakdowns work as for a network.

Step ids: a gate's value is its name (``q``); the local gradient of gate ``q`` with respect to
its input ``x`` is ``dq/dx``; the output's gradient with respect to any node or input is
``df/dx``. The output's own local gradients are not separate steps: with ∂f/∂f = 1 above
them they are the gradients ∂f/∂(its inputs) themselves.
"""

from __future__ import annotations

from typing import Any, cast

from tutor.activations import ACTIVATIONS
from tutor.formula import (
    EXP,
    LN,
    Call,
    Diff,
    Formula,
    Given,
    Max,
    Neg,
    Num,
    Power,
    Product,
    Quot,
    Ref,
    Square,
    Sum,
    product,
    total,
)
from tutor.lesson.model import ComputationGraph, Gate, Lesson, Operand
from tutor.names import label_for
from tutor.plan.steps import PHASE_FORWARD, Plan, Step

KIND_GATE, KIND_LOCAL, KIND_UPSTREAM = "gate", "local", "upstream"

FORWARD_WORDS = {
    "add": "an add gate: add its inputs",
    "sub": "a subtract gate: the first input minus the second",
    "mul": "a multiply gate: multiply its inputs",
    "div": "a divide gate: the first input divided by the second",
    "pow": "a power gate: raise its input to the constant power",
    "neg": "a negate gate: flip the sign of its input",
    "exp": "an exp gate: e to the power of its input",
    "log": "a log gate: the natural logarithm of its input",
    "max": "a max gate: the larger of its two inputs",
}

LOCAL_WORDS = {
    "add": "An add gate passes a change in either input straight through: its local gradient "
    "is 1 for each input.",
    "sub": "A subtract gate passes a change in the first input through (+1) and flips a "
    "change in the second (−1).",
    "mul": "A multiply gate's local gradient with respect to one input is the other input "
    "(a product changes by the other factor per unit of this one).",
    "div": "For a / b, the local gradient is 1/b with respect to a and −a/b² with respect to b.",
    "pow": "The power rule: the local gradient of x^k is k · x^(k−1).",
    "neg": "A negate gate flips any change: its local gradient is −1.",
    "exp": "e^x is its own derivative, so the exp gate's local gradient is its own output.",
    "log": "The local gradient of ln x is 1/x.",
    "max": "A max gate routes the gradient: 1 for the larger input, 0 for the other.",
}


def graph_of(lesson: Lesson) -> ComputationGraph:
    graph = lesson.network.graph
    assert graph is not None, "not a computational-graph lesson"
    return graph


def build_graph_plan(lesson: Lesson) -> Plan:
    """The plan of a computational-graph lesson, made at once (a graph has at most 40 gates)."""
    plan = Plan(lesson, cast(Any, None), cast(Any, None), "graph")
    _Layout(plan, graph_of(lesson)).all()
    return plan


class _Layout:
    def __init__(self, plan: Plan, graph: ComputationGraph):
        self.plan, self.graph, self.f = plan, graph, graph.output
        self.inputs = dict(graph.inputs)
        self.gates = {g.name: g for g in graph.gates}

    def add(
        self,
        step_id: str,
        formula: Formula,
        phase: str,
        kind: str,
        meaning: str,
        involves: tuple[str, ...],
    ) -> None:
        quiz = self.plan.lesson.quiz
        self.plan.append(
            Step(
                step_id,
                label_for(step_id),
                formula.evaluate(),
                phase,
                kind,
                formula,
                meaning,
                involves,
                asked=quiz.asks(step_id),
                hints=self.plan.lesson.hints.get(step_id, ()),
            )
        )

    def ref(self, step_id: str) -> Ref:
        s = self.plan[step_id]
        return Ref(s.id, s.label, s.value)

    def operand(self, a: Operand) -> Formula:
        if isinstance(a, float):
            return Num(a)
        if a in self.inputs:
            return Given(a, self.inputs[a])
        return self.ref(a)

    def all(self) -> None:
        for gate in self.graph.gates:
            self.add(
                gate.name,
                self.forward(gate),
                PHASE_FORWARD,
                KIND_GATE,
                f"{gate.name} = {gate.text} is {self.words(gate)}; use the values of its inputs.",
                (gate.name, *gate.names),
            )
        earliest: dict[str, str] = {}  # a name's first consumer: its gradient comes after it
        for gate in self.graph.gates:
            for n in gate.names:
                earliest.setdefault(n, gate.name)
        for gate in reversed(self.graph.gates):
            c = gate.name
            phase = f"Backward pass through {c} = {gate.text}"
            if c != self.f:
                self.upstream(c, phase)
                for n in gate.names:
                    self.add(
                        f"d{c}/d{n}",
                        self.local(gate, n),
                        phase,
                        KIND_LOCAL,
                        f"The local gradient of {c} = {gate.text} with respect to {n}, "
                        f"alone, without anything from above. {self.local_words(gate)}",
                        (c, n),
                    )
            for n in gate.names:
                if n in self.inputs and earliest[n] == c:
                    self.upstream(n, phase)

    def words(self, gate: Gate) -> str:
        if gate.op in FORWARD_WORDS:
            return FORWARD_WORDS[gate.op]
        return f"a {gate.op} gate: {ACTIVATIONS[gate.op].out_words.replace('sum_u', 'its input')}"

    def local_words(self, gate: Gate) -> str:
        if gate.op in LOCAL_WORDS:
            return LOCAL_WORDS[gate.op]
        rule = ACTIVATIONS[gate.op].slope_rule
        return f"For the {gate.op} gate, {rule} (out is this gate's value, sum its input)."

    def forward(self, gate: Gate) -> Formula:
        args = [self.operand(a) for a in gate.args]
        op = gate.op
        if op == "add":
            return Sum((args[0], args[1]))
        if op == "sub":
            return Diff(args[0], args[1])
        if op == "mul":
            return Product((args[0], args[1]))
        if op == "div":
            return Quot(args[0], args[1])
        if op == "pow":
            return Square(args[0]) if gate.exponent == 2 else Power(args[0], gate.exponent)
        if op == "neg":
            return Neg(args[0])
        if op == "exp":
            return Call(EXP, args[0])
        if op == "log":
            return Call(LN, args[0])
        if op == "max":
            return Max(args[0], args[1])
        return ACTIVATIONS[op].out_formula(0, (args[0],))

    def local(self, gate: Gate, n: str) -> Formula:
        """∂gate/∂n: one term per place ``n`` is an input of the gate (x · x: x + x)."""
        terms = [self.partial(gate, k) for k, a in enumerate(gate.args) if a == n]
        return total(*terms)

    def partial(self, gate: Gate, k: int) -> Formula:
        args = [self.operand(a) for a in gate.args]
        op = gate.op
        if op == "add":
            return Num(1.0)
        if op == "sub":
            return Num(1.0 if k == 0 else -1.0)
        if op == "mul":
            return args[1 - k]
        if op == "div":
            if k == 0:
                return Quot(Num(1.0), args[1])
            return Quot(Neg(args[0]), Square(args[1]))
        if op == "pow":
            k_minus_1 = gate.exponent - 1
            if k_minus_1 == 0:
                return Num(1.0)
            base = args[0] if k_minus_1 == 1 else Power(args[0], k_minus_1)
            return product(Num(gate.exponent), base)
        if op == "neg":
            return Num(-1.0)
        if op == "exp":
            return self.ref(gate.name)
        if op == "log":
            return Quot(Num(1.0), args[0])
        if op == "max":
            step = ACTIVATIONS["relu"].slope_formula
            return step(Num(0.0), Diff(args[k], args[1 - k]))
        return ACTIVATIONS[op].slope_formula(self.ref(gate.name), args[0])

    def upstream(self, n: str, phase: str) -> None:
        """∂f/∂n: over every gate that reads n, the gradient from above times the local one
        (for the output gate, its local gradient alone: ∂f/∂f = 1)."""
        terms: list[Formula] = []
        consumers = self.graph.consumers(n)
        for c in consumers:
            if c == self.f:
                terms.append(self.local(self.gates[c], n))
            else:
                terms.append(Product((self.ref(f"d{self.f}/d{c}"), self.ref(f"d{c}/d{n}"))))
        f = self.f
        if len(consumers) > 1:
            how = (
                f"{n} feeds {len(consumers)} gates ({', '.join(consumers)}), so its gradient "
                f"adds one term per gate: each is ∂{f}/∂(that gate) · ∂(that gate)/∂{n}."
            )
        elif consumers[0] == f:
            how = (
                f"{n} feeds the output {f} itself, so the gradient from above is ∂{f}/∂{f} = 1 "
                f"and ∂{f}/∂{n} is {f}'s local gradient. {self.local_words(self.gates[f])}"
            )
        else:
            c = consumers[0]
            how = (
                f"The chain rule: the gradient arriving from above, ∂{f}/∂{c}, times the "
                f"local gradient ∂{c}/∂{n}."
            )
        self.add(
            f"d{f}/d{n}",
            total(*terms),
            phase,
            KIND_UPSTREAM,
            f"How much {f} changes per unit change of {n}. {how}",
            (n, *consumers),
        )
