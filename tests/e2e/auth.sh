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

main() {
	vm_up "$VM" --user "$USER_OK:$PASS_OK" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 || true
	run_test "username/password: the right credentials pass (1 MiB intact)" right_credentials
	run_test "username/password: a wrong password is refused" refused auth-wrong --proxy-user "$USER_OK:wrong"
	run_test "username/password: a wrong user name is refused" refused auth-wrong-user --proxy-user "mallory:$PASS_OK"
	run_test "username/password: a client offering no credentials is refused" refused auth-none
	run_test "a client outside the allowed subnet is refused (even with the right credentials)" outside_client
	vm_down "$VM"
	in_host ip addr del "$OUTSIDE/32" dev lo 2>/dev/null || true
}

main
