#!/usr/bin/env python3
"""capture.py OUTDIR UPLINKS: the analysis after `mpsocks capture` recorded OUTDIR/merged.pcapng.

tshark's TCP and MPTCP dissectors (mptcp.analyze_mptcp) give each packet its subflow
(tcp.stream), its MPTCP connection (mptcp.stream), options and DSN; retransmissions come from
tshark's tcp.analysis. Writes OUTDIR/report.txt (also printed): per MPTCP connection its
subflows with addresses and uplinks, payload bytes each way and retransmissions per subflow,
and which connections fell back to TCP; per connection two gnuplot PNGs: goodput over time per
subflow, stacked (connN-goodput.png), and the data sequence number over time per subflow
(connN-dsn.png, what mptcptrace + xplot show).

A connection that began before the recording has no MP_CAPABLE/MP_JOIN handshake in it, so
tshark cannot tie its subflows together (each looks like plain TCP carrying MPTCP options).
mpsocks capture saved the guest's own list of its connections at the start and at the end of
the recording (OUTDIR/guest-start.txt and guest-end.txt, mpinfo.py raw; GUEST-FILE.err says
why one is missing): a subflow whose connection's handshake is missing is tied to the others
of its connection by the guest's token, found by its four addresses (the guest's, as the tap
sees them before NAT), and the report says so; the DSS option of every data segment still
gives the DSN plot.
UPLINKS: "TAP=ethI/UPLINK/GUESTADDR,..."."""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the launcher
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mpinfo  # noqa: E402 (beside this file)

FIELDS = ["frame.number", "frame.time_relative", "frame.interface_name", "tcp.stream", "mptcp.stream",
          "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport", "tcp.seq", "tcp.len", "tcp.flags.syn", "tcp.flags.ack",
          "tcp.options.mptcp.subtype", "tcp.options.mptcp.rawdataseqno"]
PREFS = ["-o", "tcp.analyze_sequence_numbers:TRUE", "-o", "mptcp.analyze_mptcp:TRUE",
         "-o", "mptcp.relative_sequence_numbers:TRUE"]
MP_CAPABLE, MP_JOIN, DSS = "0", "1", "2"
GUEST_FILES = (("guest-start.txt", "start"), ("guest-end.txt", "end"))


def tshark(pcap, display, fields):
    cmd = ["tshark", "-n", "-r", pcap] + PREFS + ["-Y", display, "-T", "fields", "-E", "separator=\t",
                                                  "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise SystemExit("capture: tshark failed: %s" % res.stderr.strip().splitlines()[-1:])
    for line in res.stdout.splitlines():
        yield dict(zip(fields, line.split("\t")))


def human(n):
    if n < 1000:
        return "%d B" % n
    for unit in ("kB", "MB", "GB"):
        n /= 1000.0
        if n < 1000 or unit == "GB":
            return "%.1f %s" % (n, unit)


class Subflow:
    def __init__(self, sid, iface, guest, peer):
        self.sid, self.iface, self.guest, self.peer = sid, iface, guest, peer
        self.first = self.last = None
        self.down = self.up = self.retrans = self.packets = 0
        self.syn_mpc = self.synack_mpc = self.join = self.syn_seen = self.synack_seen = False
        self.mptcp_opts = False  # any MPTCP option (a DSS, mostly) on any of its packets
        self.token = None  # the guest's token, when it tied this subflow
        self.points = []  # (time, dsn, down?) of data packets
        self.hi = {}  # per direction: the highest subflow sequence number seen, so each byte counts once
        self.bins = {}


def analyse(out, uplinks):
    pcap = os.path.join(out, "merged.pcapng")
    taps, guests = {}, set()
    for item in filter(None, uplinks.split(",")):
        tap, _, rest = item.partition("=")
        nic, upl, addr = (rest.split("/") + ["?", "?", "?"])[:3]
        taps[tap] = (nic, upl)
        guests.add(addr)
    retrans = {r["frame.number"] for r in tshark(pcap, "tcp.analysis.retransmission", ["frame.number"])}
    subflows, mstream = {}, {}
    for p in tshark(pcap, "tcp", FIELDS):
        try:
            sid, t, length = int(p["tcp.stream"]), float(p["frame.time_relative"]), int(p["tcp.len"] or 0)
        except (KeyError, ValueError):
            continue
        src, dst = "%s:%s" % (p["ip.src"], p["tcp.srcport"]), "%s:%s" % (p["ip.dst"], p["tcp.dstport"])
        to_guest = p["ip.dst"] in guests
        sf = subflows.get(sid)
        if sf is None:
            sf = subflows[sid] = Subflow(sid, p["frame.interface_name"], dst if to_guest else src,
                                         src if to_guest else dst)
        if p.get("mptcp.stream"):
            mstream[sid] = int(p["mptcp.stream"].split(",")[0])
        subtypes = p["tcp.options.mptcp.subtype"].split(",") if p["tcp.options.mptcp.subtype"] else []
        sf.mptcp_opts |= bool(subtypes)
        syn, ack = p["tcp.flags.syn"] in ("1", "True"), p["tcp.flags.ack"] in ("1", "True")
        if syn and not ack:
            sf.syn_seen = True
            sf.syn_mpc |= MP_CAPABLE in subtypes
            sf.join |= MP_JOIN in subtypes
        elif syn and ack:
            sf.synack_seen = True
            sf.synack_mpc |= MP_CAPABLE in subtypes
        sf.first = t if sf.first is None else sf.first
        sf.last = t
        sf.packets += 1
        if length == 0:
            continue
        if p["frame.number"] in retrans:
            sf.retrans += 1
        # Goodput: each byte once, by sequence number (a segment that fills the gap of one
        # lost before the tap is new here although tshark calls it a retransmission).
        seq = int(p["tcp.seq"] or 0)
        hi = sf.hi.get(to_guest, seq)
        new = max(0, seq + length - max(seq, hi))
        sf.hi[to_guest] = max(hi, seq + length)
        if new == 0:
            continue
        if to_guest:
            sf.down += new
        else:
            sf.up += new
        dsn = p["tcp.options.mptcp.rawdataseqno"].split(",")[0]
        if dsn:
            sf.points.append((t, int(dsn), to_guest))
        sf.bins.setdefault(to_guest, []).append((t, new))
    # MPTCP connections: the subflows tshark tied together; a plain or fallen-back TCP
    # connection is its own group.
    conns = {}
    for sid, sf in sorted(subflows.items()):
        key = ("m", mstream[sid]) if sid in mstream else ("t", sid)
        conns.setdefault(key, []).append(sf)
    return taps, conns


class Guest:
    """The guest's connections as mpsocks capture saved them (mpinfo.py raw, at the start and
    at the end of the recording): which token each subflow's four addresses belong to."""

    def __init__(self, out):
        self.asked, self.missing = [], []
        self.sf, self.initial, self.fallback = {}, {}, set()
        for name, when in GUEST_FILES:
            path = os.path.join(out, name)
            try:
                with open(path) as f:
                    info = mpinfo.parse(f.read())
            except OSError:
                self.missing.append((when, self.why(path + ".err")))
                continue
            self.asked.append(when)
            for m in info["msk"]:
                self.initial[(m["local"], m["remote"])] = m["token"]
                if m.get("flags", 0) & mpinfo.FALLBACK:
                    self.fallback.add(m["token"])
            for s in info["sf"]:
                self.sf[(s["local"], s["remote"])] = s["token"]

    @staticmethod
    def why(path):
        try:
            with open(path) as f:
                line = f.read().strip().splitlines()[-1:]
        except OSError:
            return "not asked"
        return line[0].replace("mpsocks: warning: ", "").replace("mpsocks: ", "") if line else "no answer"

    def token_of(self, sf):
        """The token of sf's connection, when the guest lists its addresses, the connection
        did not fall back, and the recording holds no handshake that says otherwise (a plain
        SYN, or an MP_CAPABLE one: a new connection on the same addresses)."""
        if sf.syn_seen and not sf.join:
            return None
        token = self.sf.get((sf.guest, sf.peer))
        return None if token is None or token in self.fallback else token

    def is_initial(self, sf):
        return (sf.guest, sf.peer) in self.initial


def tie_by_guest(conns, guest):
    """conns with every subflow that tshark could not put into a connection whose MP_CAPABLE
    handshake it saw regrouped under ("g", TOKEN) when the guest names its token."""
    tied = {}
    for key, sfs in conns.items():
        if is_mptcp(sfs):
            tied[key] = sfs
            continue
        for sf in sfs:
            sf.token = guest.token_of(sf)
            tied.setdefault(("g", sf.token) if sf.token else key, []).append(sf)
    for key, sfs in tied.items():
        if key[0] == "g":
            for sf in sfs:
                sf.join = not guest.is_initial(sf)
            sfs.sort(key=lambda sf: (sf.join, sf.sid))
    return tied


def is_mptcp(sfs):
    return any(sf.syn_mpc and sf.synack_mpc for sf in sfs)


def fell_back(sfs):
    return any(sf.syn_mpc and sf.syn_seen and not sf.synack_mpc and not sf.join for sf in sfs)


def plot(out, n, sfs, taps, down, span):
    """Two PNGs for connection n; returns their names."""
    t0, t1 = span
    step = max(0.01, (t1 - t0) / 60.0)
    nb = int((t1 - t0) / step) + 1
    labels = ["sf%d %s %s" % (i + 1, *taps.get(sf.iface, ("?", sf.iface))) for i, sf in enumerate(sfs)]
    rows = [[0.0] * len(sfs) for _ in range(nb)]
    for i, sf in enumerate(sfs):
        for t, length in sf.bins.get(down, []):
            rows[min(nb - 1, int((t - t0) / step))][i] += length * 8 / step / 1e6
    gp = os.path.join(out, "conn%d-goodput.dat" % n)
    with open(gp, "w") as f:
        for b, row in enumerate(rows):
            acc, cols = 0.0, []
            for v in row:
                acc += v
                cols.append("%.3f" % acc)
            f.write("%.3f %s\n" % (b * step, " ".join(cols)))
    way = "to the guest" if down else "from the guest"
    script = ['set terminal pngcairo size 900,500', 'set output "conn%d-goodput.png"' % n,
              'set title "connection %d: goodput %s per subflow (stacked)"' % (n, way),
              'set xlabel "seconds"', 'set ylabel "Mbit/s"', 'set key outside right', 'set grid',
              'set style fill solid 0.6']
    curves = ['"conn%d-goodput.dat" using 1:%d with fillsteps lc %d title "%s"' % (n, i + 2, i + 1, labels[i])
              for i in reversed(range(len(sfs)))]
    script.append("plot " + ", ".join(curves))
    # DSN over time: each data packet's data sequence number (relative to the connection's
    # first), one colour per subflow.
    base = min((d for sf in sfs for _, d, w in sf.points if w == down), default=0)
    dsn_plots = []
    for i, sf in enumerate(sfs):
        path = os.path.join(out, "conn%d-dsn-sf%d.dat" % (n, i + 1))
        with open(path, "w") as f:
            for t, d, w in sf.points:
                if w == down:
                    f.write("%.6f %.6f\n" % (t - t0, ((d - base) % (1 << 64)) / 1e6))
        dsn_plots.append('"%s" using 1:2 with points pt 7 ps 0.4 lc %d title "%s"' % (
            os.path.basename(path), i + 1, labels[i]))
    script += ['set output "conn%d-dsn.png"' % n, 'unset style',
               'set title "connection %d: data sequence number over time per subflow (%s)"' % (n, way),
               'set ylabel "data sequence (MB)"']
    script.append("plot " + ", ".join(dsn_plots) if dsn_plots else 'plot 0 notitle')
    with open(os.path.join(out, "conn%d.gp" % n), "w") as f:
        f.write("\n".join(script) + "\n")
    res = subprocess.run(["gnuplot", "conn%d.gp" % n], cwd=out, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise SystemExit("capture: gnuplot failed: %s" % res.stderr.strip())
    return "conn%d-goodput.png" % n, "conn%d-dsn.png" % n


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, uplinks = argv[1], argv[2]
    taps, conns = analyse(out, uplinks)
    guest = Guest(out)
    conns = tie_by_guest(conns, guest)
    lines, n, plain, fallbacks, tied, untied = [], 0, 0, [], [], 0
    for key, sfs in sorted(conns.items(), key=lambda kv: min(sf.first for sf in kv[1])):
        # A join the server refused (or a SYN never answered) is no subflow: named apart.
        failed = [sf for sf in sfs if sf.syn_seen and not sf.synack_seen]
        sfs = [sf for sf in sfs if sf not in failed]
        if not sfs:
            continue
        by_token = key[0] == "g"
        if not is_mptcp(sfs) and not by_token:
            plain += 1
            if fell_back(sfs):
                fallbacks.append(sfs[0])
            elif any(sf.mptcp_opts and not sf.syn_seen for sf in sfs):
                untied += 1
            continue
        n += 1
        if by_token:
            tied.append("connection %d (token %s)" % (n, key[1]))
        down, up = sum(sf.down for sf in sfs), sum(sf.up for sf in sfs)
        t0, t1 = min(sf.first for sf in sfs), max(sf.last for sf in sfs)
        first = next((sf for sf in sfs if not sf.join), sfs[0])
        lines.append("connection %d: %s -> %s, MPTCP, %d subflow%s, down %d B (%s), up %d B (%s), %.1f-%.1f s%s" % (
            n, first.guest, first.peer, len(sfs), "" if len(sfs) == 1 else "s", down, human(down), up, human(up), t0, t1,
            ", joined by the guest's token %s, handshake not captured" % key[1] if by_token else ""))
        for i, sf in enumerate(sfs):
            nic, upl = taps.get(sf.iface, ("?", sf.iface))
            lines.append("  subflow %d%-10s %s -> %s via %s %s (%s): down %d B, up %d B, retransmissions %d" % (
                i + 1, " (join)" if sf.join else " (initial)", sf.guest, sf.peer, nic, upl, sf.iface,
                sf.down, sf.up, sf.retrans))
        for sf in failed:
            lines.append("  failed join: %s -> %s via %s %s (no SYN/ACK)" % (
                sf.guest, sf.peer, *taps.get(sf.iface, ("?", sf.iface))))
        lines.append("  plots: %s %s" % plot(out, n, sfs, taps, down >= up, (t0, t1)))
    lines.append("MPTCP connections: %d; plain TCP connections: %d, of which fell back from MPTCP: %d" % (
        n, plain, len(fallbacks)))
    for sf in fallbacks:
        nic, upl = taps.get(sf.iface, ("?", sf.iface))
        lines.append("  fallback: %s -> %s via %s %s (the server answered without MP_CAPABLE)" % (
            sf.guest, sf.peer, nic, upl))
    if untied:
        lines.append("  of which carry MPTCP options, handshake not captured: %d" % untied)
    if tied:
        lines.append("  joined by the guest's token, handshake not captured: %s" % ", ".join(tied))
    whys = sorted({why for _, why in guest.missing})
    if guest.asked:
        lines.append("guest's view: its connections at the %s of the recording (%s)%s" % (
            " and the ".join(guest.asked), ", ".join(f for f, w in GUEST_FILES if w in guest.asked),
            "".join("; not at the %s: %s" % m for m in guest.missing)))
    else:
        lines.append("guest's view: not available (%s); subflows whose handshake was not captured stay "
                     "apart" % "; ".join(whys if len(whys) == 1 else ["%s: %s" % m for m in guest.missing]))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "report.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
