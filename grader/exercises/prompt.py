"""The Markdown prompt a learner reads for an exercise (the build puts it where the spec cell was)."""
from __future__ import annotations


from grader.exercises.spec import ExerciseSpec

KIND_LABEL = {"blanks": "fill in the blank", "choice": "multiple choice", "function": "write the function"}


def prompt_markdown(spec: ExerciseSpec) -> str:
    """The exercise as a learner reads it: title, difficulty, points, prompt, template and options."""
    points = f"{spec.points:g} point" + ("" if spec.points == 1 else "s")
    graded = points if spec.graded else "practice, not graded"
    lines = [f"### {spec.title}", "",
             f"*{KIND_LABEL[spec.kind]} · {spec.difficulty} · {graded}*"
             + (f" · {spec.source}" if spec.source else ""), "", spec.prompt, ""]
    if spec.kind == "blanks":
        lines += ["```python", spec.template, "```", ""]
        for blank in spec.blanks:
            opts = " · ".join(f"**{k}** `{v}`" for k, v in spec.options[blank].items())
            lines.append(f"- Options for [{blank}]: {opts}")
        lines += ["", "Replace each `[n]` in the answer cell below with the option's code (or its letter), "
                  f"run it, then run the check. You have {spec.attempts} attempts before the worked solution opens."]
    elif spec.kind == "choice":
        lines += [f"- **{k}.** {v}" for k, v in spec.options[1].items()]
        if spec.graded:
            lines += ["", "Replace `[1]` in the answer cell below with the letter of your choice, run it, then run the check."]
    return "\n".join(lines).rstrip() + "\n"
