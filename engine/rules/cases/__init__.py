"""Example cases for a rule set: given a customer, scores and context, what must come out.

Business owners write them next to the rules (``rules/cases/*.yaml``) and run them with
``retention rules test``; a change to the rules that breaks a case is caught before it goes
live. ``schema`` describes the file format, ``run`` executes the cases against a rule set.
"""

from .run import CaseResult, load_case_files, run_cases
from .schema import Case, CaseFile

__all__ = ["Case", "CaseFile", "CaseResult", "load_case_files", "run_cases"]
