"""JUnit XML for verification reports: one testsuite per service, one testcase per method.

CI systems (GitHub Actions test reporters, GitLab, Jenkins) show each failing method with its violations.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from thriftbox.contract.verify import VerifyReport


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


def write_junit(report: VerifyReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_tree(report).write(path, encoding="utf-8", xml_declaration=True)
