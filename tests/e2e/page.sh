#!/usr/bin/env bash
# Group page: the status page the guest serves, as a user sees it. One guest with three shaped
# uplinks and a download over all of them: headless Chromium loads the page (its screenshot
# kept in the logs as page.png); the uplinks' rates on the page agree with status --json's own
# counters taken in the same second, the connection on the page has the subflows status --json
# lists, and the 5-minute graph has 3 non-zero series; up and status print the page's address;
# /status.json carries what status --json shows of the guest.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3)
VM=$(printf 't%05dp' $(($$ % 100000)))

# browser URL OUT.html [SHOT.png]: Chromium (headless, in the host namespace) renders the
# page after 3 s of its own polling; the DOM after its script ran goes to OUT.html.
browser() {
	local url=$1 dom=$2 shot=${3:-} args
	args=(--headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$BED_DIR/chromium"
		"--window-size=1100,1500" --virtual-time-budget=3000)
	if [ -n "$shot" ]; then
		in_host timeout 60 chromium "${args[@]}" --screenshot="$shot" "$url" >>"$BED_DIR/chromium.log" 2>&1 || true
	fi
	in_host timeout 60 chromium "${args[@]}" --dump-dom "$url" >"$dom" 2>>"$BED_DIR/chromium.log" || true
}

# page_during_download: Chromium shows 3 uplinks up with the rates status --json measures,
# the download's connection with its 3 subflows, and a graph with 3 non-zero series.
page_during_download() {
	local t page json get_pid browser_pid
	need_vm
	command -v chromium >/dev/null || fail "chromium is not installed (tools/deps installs it)"
	page=$(grep -o 'status page: http://[0-9.]*/' "$BED_LOGS/$VM.up" | sed 's/^status page: //')
	[ -n "$page" ] || fail "up printed no 'status page:' line"
	t=$(tag page)
	trap 'bed_unshape' EXIT
	bed_shape 20mbit
	in_host "$MPTCP_GET" --socks "$PROXY" --for 30 "$BED_SERVER_ADDR" "$BED_SERVER_PORT" "/bytes/$((1 << 36))?tag=$t" \
		>"$BED_DIR/$t.get" 2>&1 &
	get_pid=$!
	sleep 6 # past slow start and the joins: the rates are steady
	browser "$page" "$BED_DIR/page.html" "$BED_LOGS/page.png" &
	browser_pid=$!
	# status --json during the same seconds (it samples its counters over one second)
	sleep 2
	json=$(in_host "$MPSOCKS" status --name "$VM" --json) || true
	wait "$browser_pid"
	echo "$json" >"$BED_DIR/page-status.json"
	[ -s "$BED_LOGS/page.png" ] || fail "Chromium wrote no screenshot: $(tail -n 3 "$BED_DIR/chromium.log")"
	"$PY" - "$BED_DIR/page.html" "$BED_DIR/page-status.json" "$BED_SERVER_ADDR:$BED_SERVER_PORT" <<-'EOF' || fail "the page disagrees with status --json: see the log"
		import html.parser, json, sys
		class P(html.parser.HTMLParser):
		    def __init__(s):
		        super().__init__(); s.nics, s.conns, s.sfs, s.series = [], [], [], []
		    def handle_starttag(s, tag, a):
		        a = dict(a)
		        if tag == "tr" and "data-from-rate" in a: s.nics.append(a)
		        elif tag == "tr" and "data-subflows" in a: s.conns.append(a)
		        elif tag == "tr" and "data-local" in a: s.sfs.append(a)
		        elif tag == "path" and "data-sum" in a: s.series.append(a)
		p = P(); p.feed(open(sys.argv[1]).read())
		st = json.load(open(sys.argv[2])); dst = sys.argv[3]
		print("page nics:", [(n["data-nic"], n["data-state"], n["data-from-rate"]) for n in p.nics])
		print("status --json nics:", [(n["nic"], n["from_net_rate"]) for n in st["nics"]])
		assert len(p.nics) == 3, "the page shows %d uplinks, want 3" % len(p.nics)
		for n, h in zip(p.nics, st["nics"]):
		    assert n["data-nic"] == h["nic"], (n["data-nic"], h["nic"])
		    assert n["data-state"] == "up", "%s is %s on the page" % (n["data-nic"], n["data-state"])
		    pr, hr = int(n["data-from-rate"]), h["from_net_rate"]
		    # the page: TCP payload over the guest's last second; status: IP bytes over its own second
		    assert hr > 1e6, "status --json: %s carries %s B/s, the download is not on it" % (h["nic"], hr)
		    assert abs(pr - hr) <= 0.25 * hr, "%s: page %d B/s, status --json %d B/s" % (h["nic"], pr, hr)
		conns = [c for c in st["connections"] if c["remote"] == dst]
		assert conns, "status --json lists no connection to %s" % dst
		c = conns[-1]
		mine = [r for r in p.conns if r["data-token"] == c["token"]]
		assert mine and mine[0]["data-remote"] == dst, "the page lists no connection %s" % c["token"]
		page_sf = sorted(r["data-local"] for r in p.sfs if r["data-token"] == c["token"])
		json_sf = sorted(s["local"] for s in c["subflows"])
		print("subflows on the page:", page_sf, "in status --json:", json_sf)
		assert len(page_sf) == 3 and page_sf == json_sf, "subflows differ"
		down = [s for s in p.series[:len(p.series) // 2] if int(s["data-sum"]) > 0]
		assert len(p.series) == 6 and len(down) == 3, "graph series: %s" % [(s["data-nic"], s["data-sum"]) for s in p.series]
	EOF
	wait "$get_pid" || true
	grep -q 'sha256=' "$BED_DIR/$t.get" || fail "the download did not finish: $(cat "$BED_DIR/$t.get")"
}

# page_json_is_status: /status.json and status --json show the guest from one source: the same
# keys, the same connections (by token) and exits, the same version and session limit.
page_json_is_status() {
	local page
	need_vm
	page=$(grep -o 'status page: http://[0-9.]*/' "$BED_LOGS/$VM.up" | sed 's/^status page: //')
	in_host curl -sS --max-time 5 "${page}status.json" >"$BED_DIR/page.json" || fail "no /status.json"
	in_host "$MPSOCKS" status --name "$VM" --json >"$BED_DIR/host.json" || true
	in_host "$MPSOCKS" status --name "$VM" >"$BED_DIR/host.txt" 2>&1 || true
	grep -qF "status page: $page" "$BED_DIR/host.txt" || fail "status prints no 'status page: $page' line"
	"$PY" - "$BED_DIR/page.json" "$BED_DIR/host.json" "$page" <<-'EOF' || fail "see the log"
		import json, sys
		g, h, page = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
		shared = ["version", "sessions", "clients", "connections", "exits", "memory", "uptime_s"]
		missing = [k for k in shared if k not in g or k not in h]
		assert not missing, "keys missing: %s" % missing
		assert h["page"] == page, (h["page"], page)
		assert g["version"] == h["version"] and g["sessions"]["max"] == h["sessions"]["max"] > 0
		assert "history" not in g and "history" not in h
		for k in ("to_net_rate", "from_net_rate", "state", "guest", "gateway"):
		    assert all(k in n for n in g["nics"]), k
		print("page /status.json keys:", sorted(g), "status --json keys:", sorted(h))
	EOF
}

main() {
	vm_up "$VM" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 --uplink up2@198.18.2.1 || true
	run_test "page: Chromium during a download over 3 uplinks: rates as status --json's, the connection's 3 subflows, 3 series in the graph (page.png)" page_during_download
	run_test "page: /status.json and status --json come from one source; status prints the page's address" page_json_is_status
	vm_down "$VM"
}

main
