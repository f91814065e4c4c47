"""Shared test helpers: build tasks from small in-memory fixtures."""

from __future__ import annotations

import pytest

from bot.config import Config
from bot.engine import review_tasks
from bot.task import Task


def review_files(files: dict[str, str], config: Config | None = None, changed=None):
    """Review one task given as path -> text; returns the Review."""
    task = Task("", dict(files), changed=changed)
    return review_tasks([task], config or Config())


def rule_ids(review) -> list[str]:
    return [f.rule for f in review.findings]


@pytest.fixture
def review():
    return review_files
