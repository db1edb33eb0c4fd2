"""Read pip-audit's JSON report: fail on known vulnerabilities, say loudly when nothing could be audited."""

import json
import sys

path, status = sys.argv[1], int(sys.argv[2])
try:
    with open(path) as f:
        deps = json.load(f)["dependencies"]
except (OSError, ValueError, KeyError):
    print(
        f"== dependency audit: pip-audit produced no report (exit {status}): vulnerability service unreachable, "
        "audit skipped"
    )
    sys.exit(0)
audited = [d for d in deps if "skip_reason" not in d]
vulnerable = [d for d in audited if d.get("vulns")]
if not audited:
    print(
        f"== dependency audit: vulnerability service unreachable, audit skipped ({len(deps)} dependencies NOT audited)"
    )
    sys.exit(0)
for d in vulnerable:
    for v in d["vulns"]:
        fixes = ", ".join(v.get("fix_versions") or []) or "no fixed version yet"
        print(f"VULNERABLE {d['name']} {d['version']}: {v['id']} (fixed in: {fixes})")
skipped = [d["name"] for d in deps if "skip_reason" in d]
if skipped:
    print(f"== dependency audit: {len(skipped)} dependencies could not be audited: {', '.join(skipped)}")
print(f"== dependency audit: {len(audited)} audited, {len(vulnerable)} with known vulnerabilities")
sys.exit(1 if vulnerable else 0)
