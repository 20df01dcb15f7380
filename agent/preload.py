"""Imported once in the framework's forkserver (`AgentServer(preload_modules=[...])`).

The models are loaded there, before any job process is forked from it, so every job process
inherits them copy-on-write and its prewarm finds them already loaded: one copy of silero and
pocketsphinx for the whole worker instead of one per job. The framework's own preload runs
after this module and freezes the garbage collector's view of what it loaded, which keeps
those pages shared.
"""

from .speech_models import preload_shared_models

preload_shared_models()
