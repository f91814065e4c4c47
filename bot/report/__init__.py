"""Markdown report -> headings, entries, code and claims, with source lines."""

from bot.report.model import CodeBlock, Entry, FileRef, Heading, InlineCode, Report
from bot.report.parser import parse_report

__all__ = ["CodeBlock", "Entry", "FileRef", "Heading", "InlineCode", "Report", "parse_report"]
