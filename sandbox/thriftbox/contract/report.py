r"""What ``verify`` found: :class:`VerifyReport` of :class:`Violation`\ s, and its JUnit XML form."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Violation:
    """One way the provider broke the contract: in ``method``, at field ``path``, for case ``case``."""

    method: str
    path: str
    message: str
    case: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" + (f" [{self.case}]" if self.case else "")


@dataclass
class VerifyReport:
    service: str
    target: tuple[str, int]
    violations: list[Violation] = field(default_factory=list)
    notes: list[Violation] = field(default_factory=list)  # tolerated by Thrift, but not in this IDL
    cases_run: int = 0
    methods: dict[str, int] = field(default_factory=dict)  # method -> cases run (0: skipped), in IDL order
    seconds: dict[str, float] = field(default_factory=dict)  # method -> time spent

    @property
    def ok(self) -> bool:
        return not self.violations

    def lines(self, method: str | None = None) -> list[str]:
        """One line per distinct violation (of ``method``, or all), naming the field path and the cases hit."""
        grouped: dict[tuple[str, str, str], list[str]] = {}
        for v in self.violations:
            if method is None or v.method == method:
                grouped.setdefault((v.method, v.path, v.message), []).append(v.case)
        lines = []
        for (_method, path, message), cases in grouped.items():
            shown = ", ".join(c for c in cases[:3] if c) + (
                f", +{len(cases) - 3} more" if len(cases) > 3 else ""
            )
            lines.append(f"{path}: {message}" + (f" [{shown}]" if shown else ""))
        return lines

    def summary(self) -> str:
        verdict = "ok" if self.ok else f"{len(self.lines())} violation(s)"
        host, port = self.target
        return f"{self.service} at {host}:{port}: {self.cases_run} case(s) in {len(self.methods)} method(s), {verdict}"

    def to_junit(self, path: Path) -> None:
        """Write JUnit XML: one testcase per method, its violations as the failure."""
        path.parent.mkdir(parents=True, exist_ok=True)
        junit_tree(self).write(path, encoding="utf-8", xml_declaration=True)


def junit_tree(report: VerifyReport) -> ET.ElementTree:
    by_method = {m: report.lines(m) for m in report.methods}
    failed = sum(1 for lines in by_method.values() if lines)
    skipped = sum(1 for m in by_method if not report.methods.get(m))
    suites = ET.Element("testsuites", name="thriftbox verify")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=report.service,
        tests=str(len(by_method)),
        failures=str(failed),
        errors="0",
        skipped=str(skipped),
        time=f"{sum(report.seconds.values()):.3f}",
    )
    host, port = report.target
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="target", value=f"{host}:{port}")
    ET.SubElement(props, "property", name="cases", value=str(report.cases_run))
    for method, lines in by_method.items():
        case = ET.SubElement(
            suite,
            "testcase",
            classname=report.service,
            name=method,
            time=f"{report.seconds.get(method, 0.0):.3f}",
        )
        if not report.methods.get(method):
            ET.SubElement(case, "skipped", message="not run: the provider stopped answering")
        elif lines:
            failure = ET.SubElement(case, "failure", message=lines[0], type="ContractViolation")
            failure.text = "\n".join(lines)
        notes = [str(n) for n in report.notes if n.method == method]
        if notes:
            ET.SubElement(case, "system-out").text = "\n".join(notes)
    ET.indent(suites)
    return ET.ElementTree(suites)
