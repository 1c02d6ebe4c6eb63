"""Synthetic insurance book with a known ground truth (see ``training/SYNTH.md``)."""

from training.synth.book import CAMPAIGN_SHARE, CONTROL, generate_book
from training.synth.output import book_summary, check_output_path, write_book
from training.synth.truth import ACTIONS, NO_ACTION, true_churn_probability

__all__ = [
    "ACTIONS",
    "CAMPAIGN_SHARE",
    "CONTROL",
    "NO_ACTION",
    "book_summary",
    "check_output_path",
    "generate_book",
    "true_churn_probability",
    "write_book",
]
