"""What every stimwise plot shares: a figure or the caller's axes, and one way to save it.

Every plot function (:func:`stimwise.waveform.plot.plot_prescription`, the physiology and
response plots) returns a :class:`matplotlib.figure.Figure` and takes ``ax=``: the caller's
axes to draw into (one per panel), or ``None`` for a new figure. New figures are made with the
Figure API, not pyplot, so no backend is selected or changed, nothing is registered in pyplot's
list of open figures and nothing leaks from one call to the next. In a Jupyter notebook, run
``%matplotlib inline`` once to have returned figures drawn; in a script, save them with
:func:`save_figure` (every ``--plot FILE`` and ``waveform plot`` command does).

matplotlib is imported only inside these functions, so ``import stimwise`` stays light.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stimwise.arguments import check_type
from stimwise.errors import FieldProblem, InputError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PLOT_FORMATS", "check_figure_path", "figure_and_axes", "save_figure"]

PLOT_FORMATS = ("png", "svg", "pdf")
"""File formats :func:`save_figure` writes, picked by the file's suffix."""

DEFAULT_DPI = 120
"""Resolution of saved raster figures (dots per inch)."""


def check_figure_path(path: str | os.PathLike[str], field: str = "path") -> Path:
    """``path`` as a :class:`~pathlib.Path` if a figure can be saved there.

    Commands call this before a long computation, so a typo in ``--plot`` is reported at once.

    Parameters
    ----------
    path
        A file ending in ``.png``, ``.svg`` or ``.pdf`` (any case) in an existing directory.
    field
        The option or argument ``path`` came from, named in the error (``--plot``).

    Raises
    ------
    InputError
        Another suffix, or a directory that does not exist.

    Examples
    --------
    >>> from stimwise.plotting import check_figure_path
    >>> check_figure_path("waveform.PNG").name
    'waveform.PNG'
    >>> check_figure_path("waveform.bmp", field="--out")
    Traceback (most recent call last):
    ...
    stimwise.errors.InputError: Invalid input (1 problem): --out: got 'waveform.bmp'; expected a
    .png, .svg or .pdf file
    """
    check_type(path, (str, os.PathLike), function="check_figure_path", name=field)
    checked = Path(path)
    if checked.suffix.lower().lstrip(".") not in PLOT_FORMATS:
        raise InputError(FieldProblem(field, str(path), "a .png, .svg or .pdf file"))
    if not checked.parent.is_dir():
        raise InputError(FieldProblem(field, str(path), "a file in an existing directory"))
    return checked


def save_figure(
    figure: Figure, path: str | os.PathLike[str], *, dpi: int = DEFAULT_DPI, field: str = "path"
) -> Path:
    """Write ``figure`` to ``path`` in the format its suffix names (png, svg or pdf).

    The file is written to a temporary name in the same directory and renamed, so a failure
    never leaves a half-written picture behind and a reader never sees one.

    Parameters
    ----------
    figure
        What a stimwise plot function returned (any matplotlib Figure).
    path
        Destination; see :func:`check_figure_path`.
    dpi
        Resolution of a png.
    field
        The option or argument ``path`` came from, named in an error.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        ``path`` has another suffix or its directory does not exist.
    ArgumentTypeError
        ``figure`` is not a matplotlib Figure.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import stimwise as sw
    >>> figure = sw.plot_prescription(sw.load_protocol("burst-tens"))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = sw.save_figure(figure, pathlib.Path(folder) / "burst.png")
    ...     written.name, written.read_bytes()[:4]
    ('burst.png', b'\\x89PNG')
    """
    from matplotlib.figure import Figure

    check_type(figure, Figure, function="save_figure", name="figure",
               hint="pass what a stimwise plot function returned")
    checked = check_figure_path(path, field)
    handle, temporary = tempfile.mkstemp(
        dir=checked.parent, prefix=f".{checked.name}.", suffix=".part"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            figure.savefig(stream, format=checked.suffix.lower().lstrip("."), dpi=dpi)
        os.replace(temporary, checked)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return checked


def figure_and_axes(
    ax: Axes | Sequence[Axes] | None,
    panels: int,
    *,
    function: str,
    figsize: tuple[float, float],
    sharex: bool = False,
) -> tuple[Figure, list[Axes]]:
    """The figure and the ``panels`` axes a plot function draws into.

    Parameters
    ----------
    ax
        ``None``: a new figure (Figure API, constrained layout) with ``panels`` rows. Otherwise
        the caller's axes: one :class:`~matplotlib.axes.Axes` when ``panels`` is 1, or a
        sequence (or numpy array, as ``subplots`` returns) of exactly ``panels`` axes.
    panels
        How many axes the plot draws.
    function
        The plot function's name, for the error message.
    figsize
        Size of a new figure (inches).
    sharex
        New figure only: the rows share their x axis.

    Returns
    -------
    tuple
        The (top-level) figure the axes belong to, and the axes in drawing order.

    Raises
    ------
    ArgumentTypeError
        ``ax`` is neither ``None``, an Axes nor a sequence of Axes.
    InputError
        A sequence of the wrong length.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from stimwise.plotting import figure_and_axes
    >>> figure, axes = figure_and_axes(None, 2, function="demo", figsize=(6, 4))
    >>> len(axes), axes[0].figure is figure
    (2, True)
    >>> mine = Figure().subplots()
    >>> figure_and_axes(mine, 1, function="demo", figsize=(6, 4))[1] == [mine]
    True
    """
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if ax is None:
        figure = Figure(figsize=figsize, layout="constrained")
        axes = figure.subplots(panels, 1, squeeze=False, sharex=sharex)[:, 0]
        return figure, list(axes)
    hint = f"pass a matplotlib Axes, a sequence of {panels} Axes, or None"
    if isinstance(ax, Axes):
        given = [ax]
    else:
        check_type(ax, Iterable, function=function, name="ax", hint=hint)
        given = list(ax.ravel() if hasattr(ax, "ravel") else ax)  # numpy arrays of axes too
        for item in given:
            check_type(item, Axes, function=function, name="ax", hint=hint)
    if len(given) != panels:
        raise InputError(FieldProblem(
            "ax", f"{len(given)} axes", f"{panels} axes, one per panel of {function}()"
        ))
    figure = given[0].figure
    while not isinstance(figure, Figure):  # axes of a SubFigure: its top-level figure
        figure = figure.figure
    return figure, list(given)
