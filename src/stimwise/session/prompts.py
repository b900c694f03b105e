"""Questions a session asks the person (or the clinician), and who answers them.

The session never blocks on an answer: it posts a :class:`Prompt`, keeps watching the device and
the interlocks, and asks its :class:`Responder` for the answer at every control step. An
interactive front end queues the user's key presses; :class:`ScriptedResponder` answers from
thresholds given in advance (``stimwise session run --auto``), which makes sessions reproducible
in scripts and tests.
"""

from __future__ import annotations

import queue
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ANSWERS",
    "QUESTIONS",
    "Prompt",
    "PromptKind",
    "QueuedResponder",
    "Responder",
    "ScriptedResponder",
]

PromptKind = Literal[
    "nrs_pre", "skin_pre", "sensation", "comfort", "motor", "nrs_post", "skin_post"
]

ANSWERS: dict[str, tuple[str, ...]] = {
    "nrs_pre": tuple(str(n) for n in range(11)),
    "nrs_post": tuple(str(n) for n in range(11)),
    "skin_pre": ("ok", "not_ok"),
    "skin_post": ("ok", "not_ok"),
    "sensation": ("no", "yes"),
    "comfort": ("more", "strong_comfortable", "too_strong"),
    "motor": ("no_twitch", "twitch"),
}
QUESTIONS: dict[str, str] = {
    "nrs_pre": "Pain now, 0 (none) to 10 (worst possible)?",
    "nrs_post": "Pain now, after the session, 0 to 10?",
    "skin_pre": "Skin under the electrode sites intact (ok / not_ok)?",
    "skin_post": "Skin under the electrodes after the session (ok / not_ok)?",
    "sensation": "Do you feel the current (yes / no)?",
    "comfort": "Strong but comfortable yet (more / strong_comfortable / too_strong)?",
    "motor": "Is there a visible muscle twitch (no_twitch / twitch)?",
}


@dataclass(frozen=True)
class Prompt:
    kind: PromptKind
    amplitude_ma: float = 0.0

    @property
    def question(self) -> str:
        return QUESTIONS[self.kind]

    @property
    def answers(self) -> tuple[str, ...]:
        return ANSWERS[self.kind]


class Responder:
    """Source of answers; ``answer`` returns ``None`` while the person has not answered.

    Examples
    --------
    A person at a keyboard or on a web page answers through a
    :class:`QueuedResponder`; a script can answer with its own subclass:

    >>> from stimwise.session import Responder
    >>> from stimwise.session.prompts import Prompt
    >>> class AlwaysComfortable(Responder):
    ...     def answer(self, prompt):
    ...         return {"sensation": "yes", "comfort": "strong_comfortable"}.get(prompt.kind, "ok")
    >>> AlwaysComfortable().answer(Prompt("comfort", amplitude_ma=8.0))
    'strong_comfortable'
    """

    def answer(self, prompt: Prompt) -> str | None:
        raise NotImplementedError


class QueuedResponder(Responder):
    """Answers typed by a person, queued by the user interface thread."""

    def __init__(self) -> None:
        self._answers: queue.Queue[str] = queue.Queue()

    def put(self, answer: str) -> None:
        self._answers.put(answer)

    def answer(self, prompt: Prompt) -> str | None:
        try:
            return self._answers.get_nowait()
        except queue.Empty:
            return None


@dataclass(frozen=True)
class ScriptedResponder(Responder):
    """A simulated person: feels the current from ``sensation_threshold_ma``, finds it strong but
    comfortable from ``comfortable_ma``, twitches from ``motor_threshold_ma``.

    Examples
    --------
    >>> from stimwise.session import ScriptedResponder
    >>> from stimwise.session.prompts import Prompt
    >>> person = ScriptedResponder(sensation_threshold_ma=4, comfortable_ma=9,
    ...                            motor_threshold_ma=15)
    >>> person.answer(Prompt("sensation", 3.0)), person.answer(Prompt("sensation", 5.0))
    ('no', 'yes')
    """

    sensation_threshold_ma: float
    comfortable_ma: float
    motor_threshold_ma: float
    nrs_pre: int = 5
    nrs_post: int = 4
    skin_pre: str = "ok"
    skin_post: str = "ok"

    @classmethod
    def typical(
        cls,
        ceiling_ma: float,
        *,
        sensation_ma: float | None = None,
        comfortable_ma: float | None = None,
        motor_ma: float | None = None,
    ) -> ScriptedResponder:
        """A simulated person whose unset thresholds are 20 / 40 / 60 % of ``ceiling_ma``
        (stimwise's choice for demonstrations, not a clinical figure).

        Examples
        --------
        >>> from stimwise.session.prompts import ScriptedResponder
        >>> person = ScriptedResponder.typical(30.0, motor_ma=25.0)
        >>> person.sensation_threshold_ma, person.comfortable_ma, person.motor_threshold_ma
        (6.0, 12.0, 25.0)
        """
        return cls(
            sensation_threshold_ma=sensation_ma if sensation_ma is not None else 0.2 * ceiling_ma,
            comfortable_ma=comfortable_ma if comfortable_ma is not None else 0.4 * ceiling_ma,
            motor_threshold_ma=motor_ma if motor_ma is not None else 0.6 * ceiling_ma,
        )

    def answer(self, prompt: Prompt) -> str | None:
        a = prompt.amplitude_ma
        match prompt.kind:
            case "nrs_pre":
                return str(self.nrs_pre)
            case "nrs_post":
                return str(self.nrs_post)
            case "skin_pre":
                return self.skin_pre
            case "skin_post":
                return self.skin_post
            case "sensation":
                return "yes" if a >= self.sensation_threshold_ma else "no"
            case "comfort":
                return "strong_comfortable" if a >= self.comfortable_ma else "more"
            case "motor":
                return "twitch" if a >= self.motor_threshold_ma else "no_twitch"
        return None
