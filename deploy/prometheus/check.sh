#!/usr/bin/env bash
# Checks the shipped Prometheus rules: syntax (promtool check rules), every
# alert on synthetic series (promtool test rules), and that every runbook
# link points at a section that exists. Installs Debian's prometheus
# package (which brings promtool) when missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if ! command -v promtool >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >&2
fi
promtool check rules "$here/jwtv-rules.yml"
promtool test rules "$here/jwtv-rules.test.yml"
python3 - "$root" "$here/jwtv-rules.yml" <<'PY'
import re, sys
from pathlib import Path
root, rules = Path(sys.argv[1]), Path(sys.argv[2]).read_text()
def slug(heading):  # GitHub's anchors: lower case, punctuation dropped, spaces to hyphens
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
alerts = re.findall(r"- alert: (\w+)", rules)
links = re.findall(r"runbook_url: https://github.com/jwtv/jwtv/blob/main/(\S+)#(\S+)", rules)
assert len(links) == len(alerts), f"{len(alerts)} alerts, {len(links)} runbook links"
for path, anchor in links:
    headings = re.findall(r"^#+ (.+)$", (root / path).read_text(), re.M)
    assert anchor in {slug(h) for h in headings}, f"{path}#{anchor}: no such section"
tested = set(re.findall(r"alertname: (\w+)", (Path(sys.argv[2]).parent / "jwtv-rules.test.yml").read_text()))
assert set(alerts) <= tested, f"alerts without a unit test: {set(alerts) - tested}"
print(f"{len(alerts)} alerts, each with a unit test and a runbook section that exists")
PY
