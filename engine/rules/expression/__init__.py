"""The safe, compiled expression language of the rule layer.

Business owners write conditions and formulas in YAML rule files::

    years_loss_free >= 3 and p_churn > 0.2 and segment in ['vip', 'affiliated']
    uplift * clv - cost
    0.1 * premium if segment == 'vip' else 0.05 * premium

``compile_expression(text, schema, kind, origin)`` parses such a text once, checks it, and
returns a ``Condition`` (``kind="condition"``) or a ``Formula`` (``kind="number"``):

* ``evaluate(row)`` takes a mapping of field values (about 0.3 µs for the rule above);
* ``evaluate_frame(frame, context=None)`` takes a DataFrame or a mapping of equally long
  arrays and scalars (a scalar, e.g. the channel of a batch, applies to every row; columns
  are read by position) and gives a bool or float64 array with one element per row, with
  numpy over whole columns. String columns may be object, pandas string or categorical
  (compared once per category). ``context`` adds or overrides fields for all rows.

Both give the same result for every row. Compiled expressions pickle (by recompiling).

The language
------------
Python's expression grammar, restricted to: field names from the schema; number, string,
``True``/``False`` literals; ``+ - * / **`` and unary ``-``; ``== != < <= > >=`` (chains
allowed); ``in`` / ``not in`` a literal list; ``and or not``; ``a if condition else b``;
and the functions ``min max abs round clip coalesce is_missing log exp``. Nothing else is
accepted: no attribute access, indexing, lambdas, comprehensions, f-strings, assignment, or
other calls, so a rule file cannot run code. Texts longer than 2,000 characters or nested
more than 40 deep are refused.

Types are checked at load against the schema (field name → ``"number"``, ``"bool"``,
``"string"`` or a ``StringEnum`` of allowed values): ordering compares numbers only, ``==``
needs two values of one type, arithmetic needs numbers, ``and``/``or``/``not`` and ``if``
need conditions, a list after ``in`` must hold the left side's type, and a string enum
compared with a value outside its set is an error. Every error is an ``ExpressionError``
(a ``RuleError``) reading ``file:line:column: message`` over the text and a caret.

Missing values
--------------
A field is missing when its value is None, NaN or ``pandas.NA`` (or its key or column is
absent). The same rules hold row by row and for whole frames:

* arithmetic with a missing operand is missing, and so is a result that Python could not
  compute: division by zero, ``**`` out of its domain or overflowing, ``log`` of a number
  that is not positive, ``exp`` overflowing (``+ - *`` follow IEEE float64 arithmetic);
* every comparison (``== != < <= > >= in``, ``not in``) with a missing operand is False;
* in a boolean context (``and``, ``or``, ``not``, the condition of ``if ... else``) missing
  counts as False. Hence ``not (x > 3)`` and ``not flag`` are True when ``x`` or ``flag``
  is missing, while ``x <= 3`` is False: write the comparison you mean rather than
  negating its opposite, or test ``is_missing(x)`` explicitly;
* ``and``/``or``/``not`` give True or False, never missing;
* ``is_missing(x)`` is True or False; ``coalesce(a, b, ...)`` is the first argument that is
  not missing (missing if all are);
* ``min``/``max`` skip missing arguments (missing only if all are); ``clip(x, low, high)``
  is missing when ``x`` is and skips a missing bound; ``abs`` and ``round`` keep missing;
  ``round`` rounds half to even, as numpy does (``round(2.5)`` is 2);
* a ``Condition`` always gives a plain bool (False where the expression is missing); a
  ``Formula`` gives a float, NaN when missing: the caller decides what that means.

Row values are trusted to match the schema (the data contract checks that): a value of the
wrong kind (text in a number field) raises ``RuleError`` where Python cannot compare it. A
True/False field accepts True/False, 1/0 and 1.0/0.0 and treats any other value as missing.
"""

from .compiled import CompiledExpression, Condition, ExpressionKind, Formula, compile_expression
from .errors import ExpressionError, SourceLocation
from .parse import MAX_DEPTH, MAX_LENGTH
from .schema import FieldType, StringEnum, ValueType
from .tree import FUNCTIONS

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "CompiledExpression",
    "Condition",
    "ExpressionError",
    "ExpressionKind",
    "FieldType",
    "Formula",
    "SourceLocation",
    "StringEnum",
    "ValueType",
    "compile_expression",
]
