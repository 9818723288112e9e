#!/usr/bin/env bash
# A guest started with --user: RFC 1929 username/password and the allowed client subnet.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
VM=$(printf 't%05da' $(($$ % 100000)))
USER_OK=alice PASS_OK='s3cret-pw'
# A host address outside the proxy's subnet (the default --allow) that still reaches it.
OUTSIDE=10.77.0.1

# fetch_as TAG [CURL ARGS]: 1 MiB through the proxy; prints curl's exit status.
fetch_as() {
	local t=$1 rc=0
	shift
	in_host curl -sS --max-time 20 --socks5 "$PROXY" "$@" -o "$BED_DIR/$t" \
		"$(server_url ip "/bytes/$MIB?tag=$t")" >&2 || rc=$?
	echo "$rc"
}

right_credentials() {
	local t
	need_vm
	t=$(tag auth-ok)
	[ "$(fetch_as "$t" --proxy-user "$USER_OK:$PASS_OK")" = 0 ] || fail "curl with the right credentials failed"
	check_download "$t" "$BED_DIR/$t" "$MIB"
}

# refused TAG CURL_ARGS...: curl fails at the SOCKS stage and the server never saw the request.
refused() {
	local t rc
	need_vm
	t=$(tag "$1")
	shift
	rc=$(fetch_as "$t" "$@")
	# 97: CURLE_PROXY (the SOCKS handshake failed); 7 or 28 would mean "not reachable", which
	# is not a refusal and would let a broken bed pass.
	[ "$rc" = 97 ] || fail "curl exit $rc, want 97 (refused by the proxy)"
	sleep 0.5
	[ -z "$(bed_report "$t")" ] || fail "the request reached the server"
}

outside_client() {
	need_vm
	in_host ip addr replace "$OUTSIDE/32" dev lo
	refused auth-outside --interface "$OUTSIDE" --proxy-user "$USER_OK:$PASS_OK"
}

# page_login: with --user the status page wants the proxy's login: 401 without it or with a
# wrong one, the document with it.
page_login() {
	local base=http://${PROXY%:*}/ code
	need_vm
	code=$(in_host curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${base}status.json") || true
	[ "$code" = 401 ] || fail "no login: HTTP $code, want 401"
	code=$(in_host curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u "$USER_OK:wrong" "${base}status.json") || true
	[ "$code" = 401 ] || fail "a wrong password: HTTP $code, want 401"
	in_host curl -sS --max-time 5 -u "$USER_OK:$PASS_OK" "${base}status.json" | grep '"sessions":{"max":' >/dev/null ||
		fail "the right login gets no status document"
}

# outside_client_page: the address outside the allowed subnet reaches the guest (its SOCKS
# port refuses it, above) but the page sends it nothing at all: closed without a byte (curl's
# "empty reply", 52, or a reset, 56, when the request was still unread).
outside_client_page() {
	local rc=0
	need_vm
	in_host ip addr replace "$OUTSIDE/32" dev lo
	in_host curl -sS --max-time 5 --interface "$OUTSIDE" -u "$USER_OK:$PASS_OK" -o "$BED_DIR/outside.page" \
		"http://${PROXY%:*}/status.json" >&2 || rc=$?
	[[ $rc == 52 || $rc == 56 ]] || fail "curl exit $rc, want 52 or 56 (closed without a byte)"
	[ ! -s "$BED_DIR/outside.page" ] || fail "it got $(wc -c <"$BED_DIR/outside.page") bytes"
}

main() {
	vm_up "$VM" --user "$USER_OK:$PASS_OK" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 || true
	run_test "username/password: the right credentials pass (1 MiB intact)" right_credentials
	run_test "username/password: a wrong password is refused" refused auth-wrong --proxy-user "$USER_OK:wrong"
	run_test "username/password: a wrong user name is refused" refused auth-wrong-user --proxy-user "mallory:$PASS_OK"
	run_test "username/password: a client offering no credentials is refused" refused auth-none
	run_test "a client outside the allowed subnet is refused (even with the right credentials)" outside_client
	run_test "the status page wants the proxy's login (401 without, the document with)" page_login
	run_test "a client outside the allowed subnet gets nothing from the status page (even with the login)" outside_client_page
	vm_down "$VM"
	in_host ip addr del "$OUTSIDE/32" dev lo 2>/dev/null || true
}

main
