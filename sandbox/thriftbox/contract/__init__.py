"""Contract checking in both directions.

* :func:`verify` drives a real provider and checks every answer against the IDL (``thriftbox verify``);
* :func:`check_value` / :func:`check_result` are the pure checks the verifier and tests use.
"""

from thriftbox.contract.check import Problem, check_result, check_value
from thriftbox.contract.verify import VerifyReport, Violation, verify

__all__ = ["Problem", "VerifyReport", "Violation", "check_result", "check_value", "verify"]
