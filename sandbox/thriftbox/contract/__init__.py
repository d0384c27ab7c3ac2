"""Contract checking in both directions.

* :func:`verify` drives a real provider and checks every answer against the IDL (``thriftbox verify``);
* :func:`breaking` compares two versions of an IDL for wire-incompatible changes (``thriftbox breaking``);
* :func:`check_value` / :func:`check_result` are the pure checks both the verifier and tests use.
"""

from thriftbox.contract.breaking import Finding, breaking, load_side
from thriftbox.contract.check import Problem, check_result, check_value
from thriftbox.contract.report import VerifyReport, Violation
from thriftbox.contract.verify import verify

__all__ = [
    "Finding",
    "Problem",
    "VerifyReport",
    "Violation",
    "breaking",
    "check_result",
    "check_value",
    "load_side",
    "verify",
]
