# labels: browser
# timeout: 180
# ops_status_page_browser.sh - the status page at / rendered by headless Chromium (Debian
# `chromium`): the DOM shows the file, its lag and the output, a file named like an HTML tag
# stays text (no element is injected), and a 1200x800 screenshot is taken
# ($T/status-page.png; kept with LF_KEEP=1, or copied to $LF_SCREENSHOT_DIR when set).
# Takes about 5-10 s on an idle machine (two Chromium starts).
set -u
. "$(dirname "$0")/lib.sh"
command -v chromium >/dev/null || { echo "SKIP: Debian package chromium is not installed"; exit 77; }
lf_setup
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EVIL='<img src=x onerror=alert(1)>'
cat >"$T/agent.conf" <<EOF
[agent]
name = browser-test-host
data_dir = $T/data
http_listen = 127.0.0.1:$PORT
[input app]
paths = $T/logs/*.log
[output file shipped]
path = $T/out/events.ndjson
EOF
gen_lines "$T/logs/$EVIL.log" 1 300
gen_lines "$T/logs/plain.log" 1 200
start_agent "$T/agent.conf"
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 500 ]" 20 || fail "agent did not ship 500 lines"

chrome() {
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" "$@"
}
chrome --dump-dom "http://127.0.0.1:$PORT/" >"$T/dom.html" 2>"$T/chrome.log" \
    || { tail "$T/chrome.log"; fail "chromium --dump-dom failed"; }
grep -q 'plain.log' "$T/dom.html" || fail "DOM lacks plain.log"
grep -q '&lt;img src=x onerror=alert(1)&gt;.log' "$T/dom.html" || fail "DOM lacks the tag-like file name as text"
python3 - "$T/dom.html" <<'PY' || fail "the page DOM is not what it should be"
import sys
from html.parser import HTMLParser
tags, cells = [], []
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        tags.append(tag)
    def handle_data(self, data):
        cells.append(data.strip())
P().feed(open(sys.argv[1]).read())
assert "img" not in tags and "script" not in tags, f"injected element: {set(tags)}"
assert "shipped" in cells, "output name missing"
assert "file" in cells and "ok" in cells, "output type/state missing"
assert any(c.startswith("ok: 1 output(s) healthy") for c in cells), "health banner missing"
assert "Files (2)" in cells and "Outputs (1)" in cells, [c for c in cells if c][:40]
assert any(c.endswith("<img src=x onerror=alert(1)>.log") for c in cells), "file path text missing"
print("DOM ok:", len(tags), "elements")
PY
chrome --screenshot="$T/status-page.png" --window-size=1200,800 "http://127.0.0.1:$PORT/" \
    >>"$T/chrome.log" 2>&1 || { tail "$T/chrome.log"; fail "chromium --screenshot failed"; }
python3 - "$T/status-page.png" <<'PY' || fail "screenshot is not a 1200x800 PNG with content"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1200, 800), (w, h)
# the page is not blank: decode the image and count distinct pixel rows
pos, idat = 8, b""
while pos < len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    if typ == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
stride = len(raw) // h
rows = {raw[i * stride + 1:(i + 1) * stride] for i in range(h)}
assert len(rows) > 50, f"only {len(rows)} distinct rows: blank page?"
print(f"screenshot {w}x{h}, {len(data)} bytes, {len(rows)} distinct rows")
PY
[ -n "${LF_SCREENSHOT_DIR:-}" ] && cp "$T/status-page.png" "$LF_SCREENSHOT_DIR/"
stop_agent
echo "PASS"
