"""Shared by every suite: `--wire-samples DIR` records what the agent sends (see
support/wire_samples.py)."""

from support.wire_samples import pytest_addoption as pytest_addoption
from support.wire_samples import pytest_configure as pytest_configure
from support.wire_samples import pytest_unconfigure as pytest_unconfigure
