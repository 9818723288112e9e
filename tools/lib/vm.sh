# shellcheck shell=bash
# tools/mpsocks: the guest image and qemu: KVM probe, the guest's command line, start, QMP,
# power-off (sourced).

# Sets KERNEL and INITRD (out/ unless given), building with make when they are missing; an
# installed launcher takes its share directory's, of its own version, and never builds.
find_image() {
	local f owner
	local -a make_cmd=(make -C "$TOP" all)
	pick_image
	if [ -n "$SHARE" ]; then
		for f in "$KERNEL" "$INITRD"; do
			[ -r "$f" ] || [[ $f != "$SHARE"/* ]] || die "$f is missing: this installation of mpsocks is incomplete (install it again)"
			[ -r "$f" ] || die "cannot read $f"
		done
		[ "$INITRD" != "$SHARE/initramfs.cpio.gz" ] || check_image_version
		return 0
	fi
	if [ -z "$KERNEL" ] || [ -z "$INITRD" ]; then
		say "no guest image in $TOP/out; building it (make all)"
		owner=$(stat -c %U "$TOP")
		if [ "$(id -u)" -eq 0 ] && [ "$owner" != root ]; then
			make_cmd=(runuser -u "$owner" -- "${make_cmd[@]}")
		fi
		"${make_cmd[@]}" >&2 || die "building the guest image failed (make -C $TOP all)"
		pick_image
		if [ -z "$KERNEL" ] || [ -z "$INITRD" ]; then
			die "make all did not produce out/bzImage and out/initramfs.cpio.*"
		fi
	fi
	for f in "$KERNEL" "$INITRD"; do
		[ -r "$f" ] || die "cannot read $f"
	done
}

pick_image() {
	local f newest=
	if [ -n "$SHARE" ]; then
		KERNEL=${KERNEL:-$SHARE/bzImage} INITRD=${INITRD:-$SHARE/initramfs.cpio.gz}
		return 0
	fi
	[ -n "$KERNEL" ] || { [ ! -f "$TOP/out/bzImage" ] || KERNEL=$TOP/out/bzImage; }
	if [ -z "$INITRD" ]; then
		for f in "$TOP"/out/initramfs.cpio*; do
			[ -f "$f" ] || continue
			if [ -z "$newest" ] || [ "$f" -nt "$newest" ]; then newest=$f; fi
		done
		INITRD=$newest
	fi
}

# The release's initramfs carries its version (/mpsocks-version, appended by make dist): checked
# against the launcher's own, not trusted from a file beside it.
check_image_version() {
	local want have
	want=$(launcher_version)
	# The last such line: the member make dist appends comes last (a program's bytes before it
	# may hold the name too).
	have=$(gzip -dc "$INITRD" 2>/dev/null | grep -a -o 'MPSOCKS_IMAGE_VERSION=[0-9A-Za-z.+~_-]*' | tail -n 1) || true
	have=${have#*=}
	[ "$have" = "$want" ] ||
		die "the guest image $INITRD is version ${have:-unknown (none recorded)}, this launcher $want: install one release whole"
}

# The pid of STATE's qemu if it runs: qemu.pid, checked against the QMP path in its command
# line (a recycled pid is not ours), else a search for that path (up killed before the pidfile).
qemu_pid_of() {
	local state=$1 pid='' f
	[ ! -r "$state/qemu.pid" ] || read -r pid <"$state/qemu.pid" || true
	if [[ $pid =~ ^[0-9]+$ ]] && grep -qsF "path=$state/qmp.sock" "/proc/$pid/cmdline"; then
		printf '%s\n' "$pid"
		return 0
	fi
	[ -d "$state" ] || return 1
	# A regex that does not match its own text: grep's command line is in /proc too.
	f=$(grep -lsE "path=$(printf '%s' "$state" | sed 's/[^[:alnum:]_/-]/[&]/g')/qmp[.]sock," /proc/[0-9]*/cmdline |
		head -n1) || true
	[ -n "$f" ] || return 1
	f=${f#/proc/}
	printf '%s\n' "${f%/cmdline}"
}

# KVM only if it really runs this kernel: a probe boot (no NICs) must reach user space (the
# init's first "mpsocks:" line) or a kernel panic, within a hard time limit. Cached per boot.
KVM_PROBE_SECONDS=4
kvm_works() {
	local cache=$RUN_DIR/kvm-probe result pid log t0 why=
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	if [ -r "$cache" ]; then
		read -r result <"$cache" || true
		[ "$result" = yes ]
		return
	fi
	log=$(mktemp -d)
	"$QEMU" -accel kvm -cpu host -m 128 -smp 1 -nodefaults -no-user-config -display none -no-reboot \
		-kernel "$KERNEL" -initrd "$INITRD" -append "console=ttyS0 panic=-1" \
		-serial "file:$log/console" </dev/null >"$log/qemu" 2>&1 &
	pid=$!
	t0=$SECONDS
	result=no
	while ((SECONDS - t0 < KVM_PROBE_SECONDS)); do
		if grep -qE '^mpsocks: |Run /init as init|Kernel panic' "$log/console" 2>/dev/null; then
			result=yes
			break
		fi
		if grep -q 'KVM internal error\|emulation failure' "$log/qemu" 2>/dev/null; then
			why="KVM internal error"
			break
		fi
		kill -0 "$pid" 2>/dev/null || { why="qemu exited: $(head -n1 "$log/qemu")"; break; }
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ "$result" = yes ] || [ -n "$why" ] || why="no sign of life in ${KVM_PROBE_SECONDS}s"
	rm -rf "$log"
	printf '%s %s\n' "$result" "$why" >"$cache"
	[ "$result" = yes ] || { say "KVM cannot run the guest ($why); using TCG"; return 1; }
}

guest_cmdline() {
	local i nic sep=
	# acpi=noirq: ACPI's PCI-link IRQ routing costs ~85 ms per NIC under TCG; noapictimer
	# no_timer_check: the APIC timer calibration waits 100 ms; ipv6.disable=1 when no uplink
	# has IPv6: inet6_init (~20 ms) and IPv6's per-link work are skipped, and init turns IPv6
	# off anyway (kernel/README.md measures).
	local -a words=(console=ttyS0 quiet panic=-1 acpi=noirq noapictimer no_timer_check)
	has_ipv6 || words+=(ipv6.disable=1)
	for i in "${!TAPS[@]}"; do
		nic="mpsocks.nic=eth$i,${GUEST_ADDRS[i]}/24,gw=${HOST_ADDRS[i]}"
		[ "${UP_DIRECT[i]:-0}" = 0 ] || nic="mpsocks.nic=eth$i,dhcp"
		[ -z "${GUEST_ADDRS6[i]}" ] || nic+=",v6=${GUEST_ADDRS6[i]}/64,gw6=${HOST_ADDRS6[i]}"
		[ "${UP_V4[i]:-1}" = 1 ] || nic+=,v6only
		[ "${UP_BACKUP[i]}" = 0 ] || nic+=,backup
		words+=("$nic")
	done
	[ "$PORT" = 1080 ] || words+=("mpsocks.port=$PORT")
	[ -z "$USER_PASS" ] || words+=("mpsocks.user=$USER_PASS")
	if [ ${#ALLOW[@]} -gt 0 ]; then
		# The host itself stays allowed: up checks readiness with a SOCKS greeting from it.
		words+=("mpsocks.allow=${HOST_ADDRS[0]}/32,$(IFS=,; echo "${ALLOW[*]}")")
	fi
	if [ ${#GUEST_DNS[@]} -gt 0 ]; then
		words+=("mpsocks.dns=$(IFS=,; echo "${GUEST_DNS[*]}")")
	fi
	if [ -n "$EXIT_ADDR" ]; then
		words+=("mpsocks.exit=$EXIT_ADDR:$EXIT_PORT" "mpsocks.exit_user=$EXIT_USER")
	fi
	for i in "${!LINK_ADDRS[@]}"; do
		words+=("mpsocks.exit=mpsocks://${LINK_KEYS[i]}@${LINK_ADDRS[i]}:${LINK_PORTS[i]}")
	done
	[ "$DEBUG" = 0 ] || words+=(mpsocks.debug=1)
	for i in "${words[@]}"; do
		printf '%s%s' "$sep" "$i"
		sep=' '
	done
}

# The kernel, initrd and command line go in a config file (mode 0600), not in argv: the command
# line may hold --user's password, and argv is public in ps.
start_qemu() {
	local i fd
	local -a args fds=()
	(
		umask 077
		printf '[machine]\n  kernel = "%s"\n  initrd = "%s"\n  append = "%s"\n' "$KERNEL" "$INITRD" "$(guest_cmdline)" >"$STATE/qemu.cfg"
	)
	# shellcheck disable=SC2054 # qemu's own comma-separated option values
	args=(-name "mpsocks-$NAME" -nodefaults -no-user-config -display none -no-reboot
		-m "$MEM" -smp 1 -readconfig "$STATE/qemu.cfg"
		-chardev "socket,id=con,path=$STATE/console.sock,server=on,wait=off,logfile=$STATE/console.log"
		-serial chardev:con
		-chardev "socket,id=qmp,path=$STATE/qmp.sock,server=on,wait=off" -mon chardev=qmp,mode=control
		# status's and check's questions to init (init/info.c), off the console; 2 ports, not
		# 31: each port's virtqueues cost boot time under TCG (kernel start to /init +14 ms, not +25).
		-device virtio-serial-pci,id=vser,max_ports=2 -chardev "socket,id=info,path=$STATE/info.sock,server=on,wait=off"
		-device virtserialport,bus=vser.0,nr=1,chardev=info,name=org.mpsocks.info
		-pidfile "$STATE/qemu.pid")
	if [ "$USE_ACCEL" = kvm ]; then
		args+=(-accel kvm -cpu host)
	else
		# +rdrand: qemu64 lacks it, and without it getrandom() blocks ~1 s until the crng is up.
		args+=(-accel tcg -cpu "qemu64,+rdrand")
	fi
	# A smaller DSDT for the guest's ACPI to interpret (no PCI hotplug: the NICs are fixed).
	args+=(-global PIIX4_PM.acpi-root-pci-hotplug=off -global PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off)
	for i in "${!TAPS[@]}"; do
		if [ "${UP_DIRECT[i]:-0}" = 1 ]; then
			# A macvtap is a character device, /dev/tapIFINDEX, that qemu inherits open.
			exec {fd}<>"/dev/tap$(cat "/sys/class/net/${TAPS[i]}/ifindex")" ||
				die "could not open the macvtap of direct uplink ${UP_IF[i]}"
			fds+=("$fd")
			args+=(-netdev "tap,id=n$i,fd=$fd,vhost=off")
		else
			args+=(-netdev "tap,id=n$i,ifname=${TAPS[i]},script=no,downscript=no,vhost=off")
		fi
		args+=(-device "virtio-net-pci,netdev=n$i,mac=$(guest_mac "$i"),romfile=")
	done
	: >"$STATE/console.log"
	# Its own session: Ctrl-C reaches us, and we power the guest off properly.
	setsid "$QEMU" "${args[@]}" </dev/null >"$STATE/qemu.log" 2>&1 &
	QEMU_PID=$! QEMU_STARTED=$EPOCHREALTIME
	for fd in "${fds[@]}"; do exec {fd}>&-; done
}

# is_running PID: alive, and not a zombie (a detached qemu is reparented to init, which may be
# slow to reap it).
is_running() {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# Sends QMP commands (after the handshake) to the instance; fails without its socket.
qmp() {
	local sock=$1
	shift
	[ -S "$sock" ] || return 1
	# socat -t: how long it still reads the replies after our last command (default 0.5 s).
	{
		printf '{"execute":"qmp_capabilities"}\n'
		printf '{"execute":"%s"}\n' "$@"
	} | timeout 3 socat -t 0.2 - "UNIX-CONNECT:$sock" 2>/dev/null
}

# Powers the guest off: ACPI power button (init shuts down cleanly) for up to GRACE seconds,
# then quit, then SIGKILL.
stop_qemu() {
	local state=$1 grace=$2 pid t
	pid=$(qemu_pid_of "$state") || return 0
	if ((grace > 0)) && qmp "$state/qmp.sock" system_powerdown >/dev/null; then
		for ((t = 0; t < grace * 10; t++)); do
			is_running "$pid" || break
			sleep 0.1
		done
	fi
	if is_running "$pid"; then
		qmp "$state/qmp.sock" quit >/dev/null || kill -TERM "$pid" 2>/dev/null || true
		for ((t = 0; t < 20; t++)); do
			is_running "$pid" || break
			sleep 0.1
		done
	fi
	! is_running "$pid" || kill -KILL "$pid" 2>/dev/null || true
	# Gone means gone from the process table too: a detached qemu's parent is init, which
	# reaps at its own pace (here up to ~2 s); a normal init does it at once.
	for ((t = 0; t < 60; t++)); do
		[ -e "/proc/$pid" ] || return 0
		sleep 0.05
	done
}
