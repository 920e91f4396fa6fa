"""Practice questions as ipywidgets: instant feedback, attempts, a hint on request, the worked solution.

Ungraded by design (a widget's value is lost when nbgrader re-runs a notebook). Every control has a
text label, works from the keyboard (radio buttons, dropdowns, buttons), and right/wrong is shown by
word and symbol as well as colour.
"""
from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from driftlab.exercises.cards import hints_unlocked, md_to_html, render_html
from driftlab.exercises.entries import CORRECT, INCORRECT, ChoiceEntry, Entry


class PracticeWidget:
    """One practice question; ``answer(...)`` and ``check()`` are the widget's callbacks, callable in tests."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.tried: list[str] = []
        self.solved = False
        title = W.HTML(f"<strong>{html.escape(entry.title)}</strong> "
                       f"<em>({entry.difficulty}, practice — not graded)</em>"
                       f"<div>{md_to_html(entry.prompt)}</div>")
        self.controls: list[W.Widget] = []
        parts: list[W.Widget] = [title]
        if isinstance(entry, ChoiceEntry):
            opts = entry.options
            self.choice = W.RadioButtons(options=[(f"{k}. {v}", k) for k, v in opts.items()], value=None,
                                         description="Your answer:", layout=W.Layout(width="auto"),
                                         style={"description_width": "initial"})
            self.controls.append(self.choice)
        else:
            parts.append(W.HTML(f"<pre>{html.escape(entry.template)}</pre>"))
            self.dropdowns = {}
            for b in entry.blanks:
                opts = entry.options[b]
                dd = W.Dropdown(options=[("choose…", None)] + [(f"{k}: {v}", k) for k, v in opts.items()],
                                value=None, description=f"Blank [{b}]:", style={"description_width": "initial"})
                self.dropdowns[b] = dd
                self.controls.append(dd)
        self.check_button = W.Button(description="Check", button_style="primary", tooltip="Check my answer",
                                     icon="check")
        self.hint_button = W.Button(description="Hint", tooltip="Show a hint", icon="lightbulb-o")
        self.check_button.on_click(lambda _: self.check())
        self.hint_button.on_click(lambda _: self.show_hint())
        self.status = W.HTML(self._attempts_text())
        self.feedback = W.HTML("")
        self.hint = W.HTML("")
        parts += self.controls + [W.HBox([self.check_button, self.hint_button]), self.status, self.feedback, self.hint]
        self.box = W.VBox(parts, layout=W.Layout(border="1px solid #999", padding="6px", margin="4px 0"))
        self.box.add_class("driftlab-practice")

    @property
    def attempts_left(self) -> int:
        return max(0, self.entry.attempts - len(self.tried))

    def _attempts_text(self) -> str:
        return f'<span role="status" aria-live="polite">Attempts left: {self.attempts_left}</span>'

    def current_answer(self) -> Any:
        if isinstance(self.entry, ChoiceEntry):
            return self.choice.value
        return {b: dd.value for b, dd in self.dropdowns.items()}

    def answer(self, value: Any) -> None:
        """Select an answer programmatically (a letter, or ``{blank: letter}``)."""
        if isinstance(self.entry, ChoiceEntry):
            self.choice.value = value
        else:
            for b, letter in value.items():
                self.dropdowns[int(b)].value = letter

    def check(self) -> str:
        """The Check button: judge, update attempts, show feedback; returns the status."""
        answer = self.current_answer()
        verdict = self.entry.assess(answer)
        key = self.entry.attempt_key(answer)
        if verdict.status == INCORRECT and key not in self.tried:  # a distinct wrong choice costs one attempt
            self.tried.append(key)
        if verdict.status == CORRECT:
            self.solved = True
        show = verdict.status == CORRECT or (verdict.status == INCORRECT and self.attempts_left == 0)
        self.feedback.value = render_html(self.entry, verdict, attempts_left=None, show_solution=show,
                                          hints=0, open_solution=True)
        self.status.value = self._attempts_text() if not self.solved else "Solved ✔"
        return verdict.status

    def show_hint(self) -> None:
        """The Hint button."""
        shown = max(1, hints_unlocked(self.entry, len(self.tried)))  # the first on request, one more per wrong try
        hints = "".join(f"<li>{md_to_html(h)}</li>" for h in self.entry.hints[:shown]) or "<li>No hint for this one.</li>"
        more = len(self.entry.hints) - shown
        later = f"<p>{more} more after your next wrong attempt{'s' if more > 1 else ''}.</p>" if more > 0 else ""
        self.hint.value = f'<div role="note" aria-live="polite"><strong>💡 Hint</strong><ul>{hints}</ul>{later}</div>'


__all__ = ["PracticeWidget"]
