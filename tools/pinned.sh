# shellcheck shell=bash
# Pinned sha256 sums (sources.hash: "sha256 HEX FILE"), shared by tools/fetch-source and
# tools/unpack-pinned. Sourced; callers define die().

# Print the sha256 HASHFILE pins for NAME.
pinned_hash() {
	local hashfile=$1 name=$2
	awk -v f="$name" '$1 == "sha256" && $3 == f { print $2; found = 1 } END { exit !found }' "$hashfile" ||
		die "$hashfile pins no sha256 for $name"
}

# Succeed when FILE has sha256 WANT; else say so (LABEL names it) and fail.
pinned_verify() {
	local file=$1 want=$2 label=$3 got
	got=$(sha256sum < "$file" | cut -d' ' -f1)
	[ "$got" = "$want" ] && return 0
	printf '%s: sha256 %s, but the pinned one is %s\n' "$label" "$got" "$want" >&2
	return 1
}
