"""`coach routines` and `coach routine ...`: list, copy, check, show and print routines."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from coach.adapters import routine_store
from coach.core.catalog import languages, missing_texts
from coach.errors import RoutineError
from coach.files import refuse_inputs, write_output
from coach.text import plain, shown, shown_lines

if TYPE_CHECKING:
    from coach.core.routine import Routine

DEFAULT_ROUTINE = routine_store.DEFAULT_ROUTINE

routine_app = typer.Typer(
    help="Write, check and print routines (a short one for a patient, check it, show it "
    "resolved, print a handout).",
    no_args_is_help=True,
)


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _load(name_or_path: str) -> Routine:
    return routine_store.open_routine(name_or_path)


def _first_problem(exc: RoutineError) -> str:
    """The first problem of a routine error, without the file name (shown beside it)."""
    lines = str(exc).splitlines()
    if len(lines) > 1:
        more = len(lines) - 2
        return lines[1].strip().removeprefix("- ") + (f" (and {more} more)" if more else "")
    return lines[0].split(": ", 1)[-1]


def list_routines() -> None:
    """List the bundled routines and your own, with their exercises and files."""
    from rich.table import Table

    table = Table(title="Routines", title_justify="left")
    for column in ("name", "title", "exercises", "where", "path"):
        table.add_column(column, overflow="fold")
    rows = [(p, "bundled") for p in routine_store.bundled_routines()]
    rows += [(p, "yours") for p in routine_store.user_routines()]
    for path, where in rows:
        try:
            routine = _load(str(path))
        except RoutineError as exc:
            problem = shown(_first_problem(exc))
            table.add_row(shown(path.stem), "[red]invalid[/]", problem, where, shown(path))
            continue
        exercises = shown(", ".join(spec.title for spec in routine.exercises))
        table.add_row(routine.name, shown(routine.title), exercises, where, shown(path))
    out = _out()
    out.print(table)
    out.print(f"Your routines folder: {shown(routine_store.user_routine_dir())}")


def short_form(name: str, base: Routine, base_name: str) -> str:
    """A routine that extends ``base_name`` and names its exercises, with their doses to edit."""
    lines = [
        f"# {base.title}, for one patient. Everything not written here is as in",
        f"# {base_name}: texts, thresholds, session pacing. To change a dose, remove",
        "# the '#' before its line and edit the numbers; leave out an exercise to drop it.",
        "# Print every value with: coach routine show FILE",
        f'extends = "{base_name}"',
        f'name = "{name}"',
        '# patient = "anna-k"    # who it is for; sessions and records are kept under this name',
        '# language = "en"       # the language the coach speaks: ' + ", ".join(languages()),
    ]
    for spec in base.exercises:
        dose = {k: v for k, v in dataclasses.asdict(spec.dose).items() if v is not None}
        inline = ", ".join(f"{k} = {_number(v)}" for k, v in dose.items())
        lines += ["", "[[exercises]]", f'kind = "{spec.kind.value}"', f"# dose = {{ {inline} }}"]
    return "\n".join(lines) + "\n"


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@routine_app.command("new")
def new(
    name: Annotated[str, typer.Argument(help="Name of the new routine, e.g. anna-acute.")],
    source: Annotated[
        str, typer.Option("--from", help="Routine to build on (a name or a file).")
    ] = DEFAULT_ROUTINE,
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Where to write it (default: your routines folder)."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="Write every text, dose and threshold out in full instead."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a routine for one patient: a short one that extends another and names
    its exercises and doses (or, with --full, every value written out)."""
    from coach.core.routine import is_routine_name, parse_routine, resolved_toml

    out = _out()
    if not is_routine_name(name):
        raise RoutineError(
            f"'{plain(name, 80)}' is not a routine name; use lower-case letters, digits and '-' "
            "(e.g. anna-acute)"
        )
    bundled = {p.stem for p in routine_store.bundled_routines()}
    if to is None and name in bundled:
        raise RoutineError(
            f"'{name}' is the name of a bundled routine; pick another name for your routine"
        )
    original = routine_store.find_routine(source)
    base = routine_store.open_routine(str(original))
    if full:
        text = resolved_toml(dataclasses.replace(base, name=name, extends=None))
    else:
        text = short_form(name, base, original.stem)
    target = to if to is not None else routine_store.user_routine_dir() / f"{name}.toml"
    refuse_inputs(target, [original], error=RoutineError)
    if target.exists() and not force:
        raise RoutineError(f"{target} already exists; choose another name or add --force")

    def resolve(wanted: str) -> tuple[str, str]:
        if wanted == original.stem:
            return routine_store.routine_text(str(original))
        return routine_store.routine_text(wanted)

    parse_routine(text, str(target), resolve=resolve)  # it must be as valid as the original
    write_output(target, text, "routine file", error=RoutineError)
    how = "written out in full" if full else f"extends {shown(original.stem)}"
    out.print(f"Wrote {shown(target)} ({how}).")
    out.print(f"Edit it, then check it with: coach routine check {shown(target)}")


@routine_app.command("check")
def check(
    routine: Annotated[str, typer.Argument(help="A routine file (or a routine name).")],
) -> None:
    """Check a routine file and say exactly what is wrong with it."""
    out = _out()
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        path = routine_store.find_routine(routine)
        loaded = routine_store.open_routine(str(path))
    except RoutineError as exc:
        err.print(f"[bold red]Not valid:[/] {shown_lines(exc, 1000)}")
        raise typer.Exit(1) from exc
    titles = ", ".join(spec.title for spec in loaded.exercises)
    out.print(
        f"[green]OK[/] {shown(path)}: {loaded.name}, {len(loaded.exercises)} exercises "
        f"({shown(titles, 1000)})"
    )
    kinds = tuple(spec.kind.value for spec in loaded.exercises)
    missing = missing_texts(loaded.language, kinds)
    if missing:
        out.print(
            f"[yellow]{len(missing)} texts are not translated into {loaded.language}[/] "
            "and are said in English:"
        )
        for item in missing:
            out.print(f"   {escape(item)}")


def _mark(own: bool) -> str:
    return "[yellow]*[/]" if own else " "


@routine_app.command("show")
def show(
    routine: Annotated[str, typer.Argument(help="A routine name or file.")],
    cues: Annotated[bool, typer.Option("--cues", help="Also list every cue text.")] = False,
) -> None:
    """Print the prescription as the coach will run it: exercises, doses, instructions and
    thresholds, every value resolved; * marks what the routine itself sets."""
    from rich.padding import Padding
    from rich.table import Table

    from coach.core.routine import describe_dose, settings_of

    out = _out()
    loaded = _load(routine)
    own = loaded.own
    out.print(f"[bold]{escape(loaded.title)}[/] ({loaded.name}, {escape(loaded.source)})")
    about = []
    if loaded.extends:
        about.append(f"extends {loaded.extends}")
    if loaded.patient:
        about.append(f"patient {loaded.patient}")
    about.append(f"language {loaded.language}")
    out.print(escape("; ".join(about)) + "   ([yellow]*[/] set by this routine)")
    if loaded.notes:
        out.print(escape(loaded.notes))
    for number, spec in enumerate(loaded.exercises, start=1):
        kind = spec.kind.value
        out.print()
        dose_text = describe_dose(spec, loaded.language)
        out.print(f" [bold]{number}. {escape(spec.title)}[/]  {escape(dose_text)}")
        dose = dataclasses.asdict(spec.dose)
        parts = [
            f"{_mark(f'{kind}.dose.{key}' in own)}{key} = {_number(value)}"
            for key, value in dose.items()
            if value is not None
        ]
        out.print("   dose: " + "  ".join(parts))
        out.print(f"   {escape(spec.intro)}")
        table = Table(show_edge=False, pad_edge=False, box=None)
        for column in ("", "threshold", "value", "default", "range", "meaning"):
            table.add_column(column)
        for row in settings_of(spec.thresholds):
            value = f"[yellow]{row.value}[/]" if row.changed else str(row.value)
            allowed = f"{row.low}..{row.high} {row.unit}" if row.low is not None else ""
            table.add_row(
                _mark(f"{kind}.thresholds.{row.name}" in own),
                row.name,
                value,
                str(row.default),
                allowed.strip(),
                escape(row.help),
            )
        out.print(Padding(table, (0, 0, 0, 3)))
        if cues:
            for key, text in spec.cues.items():
                out.print(f"  {_mark(f'{kind}.cues.{key}' in own)}{key}: {escape(text)}")
    sections = (
        ("session", loaded.session),
        ("camera", loaded.camera),
        ("classifier", loaded.classifier),
    )
    changed = [
        (section, row)
        for section, config in sections
        for row in settings_of(config)
        if row.changed or f"{section}.{row.name.split('.')[0]}" in own
    ]
    if changed:
        out.print()
        out.print("[bold]Changed session, camera and classifier settings[/]")
        for section, row in changed:
            mark = _mark(f"{section}.{row.name.split('.')[0]}" in own)
            out.print(f"  {mark}{section}.{row.name} = {row.value} (default {row.default})")
    if loaded.progression:
        from coach.core.progression import describe_rule

        out.print()
        out.print("[bold]Progression[/] (applied before each session from the patient's history)")
        titles = {spec.kind.value: spec.title for spec in loaded.exercises}
        for rule in loaded.progression:
            out.print(f"   {escape(titles[rule.exercise])}: {escape(describe_rule(rule))}")
    if cues:
        out.print()
        out.print("[bold]Session texts[/]")
        for key, text in loaded.session_cues.items():
            out.print(f"  {_mark(f'session_cues.{key}' in own)}{key}: {escape(text)}")


@routine_app.command("handout")
def handout(
    routine: Annotated[str, typer.Argument(help="A routine name or file.")],
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "handout.html"
    ),
) -> None:
    """Write a printable handout (HTML) of a routine for the patient."""
    from coach.adapters.handout import write_handout

    loaded = _load(routine)
    written = write_handout(loaded, out_file)
    _out().print(f"Wrote {shown(written)}. Open it in a browser and print it.")


def register(app: typer.Typer) -> None:
    """Add `coach routines` and the `coach routine` commands."""
    app.command("routines")(list_routines)
    app.add_typer(routine_app, name="routine")
