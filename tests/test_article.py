"""Every number the reference article prints is reproduced at its printed precision."""

from __future__ import annotations

import pytest

# step id -> the number as the article prints it (the article truncates to 5 decimals)
ARTICLE = {
    "sum_h1": "0.41",
    "out_h1": "0.60108",
    "sum_h2": "0.47",
    "out_h2": "0.61538",
    "sum_o1": "1.01977",
    "out_o1": "0.73492",
    "sum_o2": "1.26306",
    "out_o2": "0.77955",
    "E1": "0.23456",
    "E2": "0.01452",
    "E_total": "0.24908",
    "dE_total/dout_o1": "0.68492",
    "dout_o1/dsum_o1": "0.19480",
    "dsum_o1/dw5": "0.60108",
    "dE_total/dw5": "0.08020",
    "new_w5": "0.45187",
    "dsum_o1/dw6": "0.61538",
    "dE_total/dw6": "0.08211",
    "new_w6": "0.55073",
    "dE_total/dout_o2": "-0.17044",
    "dout_o2/dsum_o2": "0.17184",
    "dsum_o2/dw7": "0.60108",
    "dE_total/dw7": "-0.01760",
    "new_w7": "0.71056",
    "dE_total/dw8": "-0.01802",
    "new_w8": "0.81081",
    "dsum_o1/dout_h1": "0.5",
    "dout_h1/dsum_h1": "0.23978",
    "dsum_h1/dw1": "0.1",
    "dE1/dw1": "0.00159",
    "dsum_o2/dout_h1": "0.7",
    "dE2/dw1": "-0.00049",
    "dE_total/dw1": "0.00110",
    "new_w1": "0.09933",
    "new_w2": "0.19919",
    "new_w3": "0.29667",
    "new_w4": "0.39597",
}

ARTICLE_IDS = [
    "sum_h1",
    "out_h1",
    "sum_h2",
    "out_h2",
    "sum_o1",
    "out_o1",
    "sum_o2",
    "out_o2",
    "E1",
    "E2",
    "E_total",
    "dE_total/dout_o1",
    "dout_o1/dsum_o1",
    "dsum_o1/dw5",
    "dE_total/dw5",
    "new_w5",
    "dsum_o1/dw6",
    "dE_total/dw6",
    "new_w6",
    "dE_total/dout_o2",
    "dout_o2/dsum_o2",
    "dsum_o2/dw7",
    "dE_total/dw7",
    "new_w7",
    "dsum_o2/dw8",
    "dE_total/dw8",
    "new_w8",
    "dsum_o1/dout_h1",
    "dout_h1/dsum_h1",
    "dsum_h1/dw1",
    "dE1/dw1",
    "dsum_o2/dout_h1",
    "dE2/dw1",
    "dE_total/dw1",
    "new_w1",
    "dsum_o1/dout_h2",
    "dout_h2/dsum_h2",
    "dsum_h2/dw2",
    "dE1/dw2",
    "dsum_o2/dout_h2",
    "dE2/dw2",
    "dE_total/dw2",
    "new_w2",
    "dsum_h1/dw3",
    "dE1/dw3",
    "dE2/dw3",
    "dE_total/dw3",
    "new_w3",
    "dsum_h2/dw4",
    "dE1/dw4",
    "dE2/dw4",
    "dE_total/dw4",
    "new_w4",
]


def printed_decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


@pytest.mark.parametrize(("step_id", "printed"), sorted(ARTICLE.items()))
def test_article_number_reproduced(seed_plan, step_id, printed):
    value = seed_plan[step_id].value
    d = printed_decimals(printed)
    # rounded or truncated to the printed precision, the engine's value gives the printed number
    assert abs(value - float(printed)) < 10**-d, (step_id, value, printed)


def test_plan_ids_follow_the_article_exactly(seed_plan):
    assert [s.id for s in seed_plan] == ARTICLE_IDS


def test_already_computed_quantities_are_not_asked_again(seed_plan):
    ids = [s.id for s in seed_plan]
    assert len(ids) == len(set(ids))
    # w6 reuses the first two factors of w5's chain instead of asking them again
    assert seed_plan["dE_total/dw6"].depends_on == (
        "dE_total/dout_o1",
        "dout_o1/dsum_o1",
        "dsum_o1/dw6",
    )


def test_second_forward_pass_lowers_the_error(seed_plan):
    history = seed_plan.loss_history(5)
    assert history[0] == pytest.approx(seed_plan["E_total"].value, abs=1e-15)
    assert history[1] < history[0]
    assert all(b < a for a, b in zip(history, history[1:], strict=False))


def test_labels_use_partial_signs(seed_plan):
    assert seed_plan["dE_total/dw5"].label == "∂E_total/∂w5"
    assert seed_plan["new_w5"].label == "new_w5"
