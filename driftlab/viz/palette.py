"""The course's colours, defined once: Okabe & Ito's colour-blind-safe palette and what each colour means.

Every colour difference the course draws is doubled by a word, symbol, line style or hatch.
"""
from __future__ import annotations

#: Okabe & Ito (2008) colour-blind-safe palette, in its canonical order.
PALETTE: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: A check's status as a colour (the card also says it in words and with a symbol).
STATUS_COLOURS: dict[str, str] = {"correct": PALETTE["bluish_green"], "incorrect": PALETTE["vermillion"],
                                  "unanswered": PALETTE["blue"], "recorded": PALETTE["blue"],
                                  "unreadable": PALETTE["blue"]}

REFERENCE_COLOUR = PALETTE["blue"]
CURRENT_COLOUR = PALETTE["vermillion"]
OK_COLOUR = PALETTE["sky_blue"]
DRIFT_COLOUR = PALETTE["vermillion"]
