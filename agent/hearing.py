"""What a push-to-talk press has left to hear, from the session's public events (pure).

A recogniser that cannot flush on demand gives its final transcript only when it decides an
utterance has ended. At the release the framework pushes silence and waits for one more final
transcript, up to its timeout. Whether there is one to wait for shows in the events already
seen: words are still coming when the user is speaking, when speech started after the last
final transcript, or when an interim transcript followed it. Otherwise every word heard is
final, and nothing more will come: a recogniser says nothing about silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

UserState = Literal["speaking", "listening", "away"]


@dataclass
class PressHearing:
    """Ordinals of the press's last events; one is counted for each event seen."""

    _seen: int = 0
    _last_final: int = 0
    _last_speech_start: int = 0
    _last_interim: int = 0
    _speaking: bool = False

    def reset(self, state: UserState) -> None:
        """A new press: what came before it is not its business, but speech already under
        way when it starts is."""
        self._seen = self._last_final = self._last_speech_start = self._last_interim = 0
        self._speaking = False
        self.on_user_state(state)

    def on_user_state(self, state: UserState) -> None:
        self._seen += 1
        if state == "speaking" and not self._speaking:
            self._last_speech_start = self._seen
        self._speaking = state == "speaking"

    def on_transcript(self, text: str, *, final: bool) -> None:
        if not text.strip():
            return
        self._seen += 1
        if final:
            self._last_final = self._seen
        else:
            self._last_interim = self._seen

    def heard_words(self) -> bool:
        """True once the press has a final transcript with words."""
        return self._last_final > 0

    def words_pending(self) -> bool:
        """True when the recogniser may still give words of this press."""
        return (
            self._speaking
            or self._last_speech_start > self._last_final
            or self._last_interim > self._last_final
        )
