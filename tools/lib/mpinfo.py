#!/usr/bin/env python3
"""mpinfo: the guest's connection facts (init/info.c on the virtio-serial port STATE/info.sock)
for tools/mpsocks status and check.

  mpinfo.py table SOCK UPLINKS PORT       status: the proxy's connections and their subflows
  mpinfo.py json SOCK UPLINKS PORT        the same as JSON: the guest's status document
                                          (init/status.h; the page's /status.json) less its
                                          nics and history, each subflow given its uplink
  mpinfo.py check SOCK UPLINKS PROXY URL  one connection through the proxy: MPTCP or not
  mpinfo.py raw SOCK                      the guest's answer as it came

UPLINKS: "GUESTADDR=NIC/UPLINK,..." (the plan's addresses and names), so a subflow's local
address names its uplink. Exit 1 when the guest does not answer (one line on stderr); check
exits 0 for multipath, 1 for fallback or failure."""
import json
import os
import socket
import ssl
import struct
import sys
import time
import urllib.parse

TCP_STATES = {1: "established", 2: "syn-sent", 3: "syn-recv", 4: "fin-wait1", 5: "fin-wait2",
              6: "time-wait", 7: "close", 8: "close-wait", 9: "last-ack", 11: "closing"}
FALLBACK = 1  # MPTCP_INFO_FLAG_FALLBACK
SF_BACKUP = 0x20  # MPTCP_SUBFLOW_FLAG_BKUP_LOC: our endpoint is a backup one


class NoAnswer(Exception):
    pass


def ask(sock_path, request, timeout=5.0):
    """The guest's answer to one request line, up to its "end" line (left off)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(request)
        data = b""
        deadline = time.monotonic() + timeout
        while not (data.endswith(b"\nend\n") or data == b"end\n"):
            if time.monotonic() > deadline:
                raise NoAnswer("the guest did not answer on %s within %.0f s" % (sock_path, timeout))
            chunk = s.recv(65536)
            if not chunk:
                raise NoAnswer("the guest's info port closed before the answer ended")
            data += chunk
    except OSError as e:
        raise NoAnswer("cannot ask the guest on %s: %s" % (sock_path, e.strerror or e))
    finally:
        s.close()
    return data.decode(errors="replace")[:-4]


def query(sock_path, timeout=5.0):
    """The guest's answer to "conns", parsed."""
    return parse(ask(sock_path, b"conns\n", timeout) + "end\n")


def parse(raw):
    """An answer to "conns" (as query() got it, or as mpsocks capture saved it): lists of dicts
    per kind (msk, sf, tcp, exit, error) and the text itself (raw)."""
    out = {"msk": [], "sf": [], "tcp": [], "exit": [], "error": [], "raw": raw}
    for line in raw.splitlines():
        kind, _, rest = line.partition(" ")
        if kind in ("msk", "sf", "tcp"):
            d = {}
            for word in rest.split():
                k, _, v = word.partition("=")
                if k in ("token", "local", "remote"):
                    d[k] = v
                else:
                    try:
                        d[k] = int(v, 0)
                    except ValueError:
                        d[k] = v
            out[kind].append(d)
        elif kind == "exit":
            d = dict(word.partition("=")[::2] for word in rest.split())
            out["exit"].append({"at": d.get("at", "?"), "state": d.get("state", "?"), "serving": d.get("serving") == "1"})
        elif kind == "error":
            out["error"].append(rest)
    return out


# The link's exit states (init/info.h), as status shows them.
EXIT_STATES = {"up": "up", "no-answer": "does NOT answer", "untried": "not asked yet",
               "refused-key": "REFUSES the key (rotated there? copy its new line)",
               "plain-socks": "speaks plain SOCKS5, not the link (an old exit)"}


# The guest's status document's keys that status --json carries (its nics and history are the
# page's: the host has its own counters of each uplink).
GUEST_KEYS = ("version", "uptime_s", "memory", "processes", "sessions", "clients", "connections", "subflows_left_out", "exits",
              "mptcp_blocked")
BLOCKED = {"joins-dropped": "the network drops MPTCP joins",
           "mp-capable-dropped": "the network drops new MPTCP connections (MP_CAPABLE); new connections leave by another uplink"}


def query_status(sock_path, uplinks, timeout=5.0):
    """The guest's status document (init/status.h) with each subflow's uplink name added."""
    raw = ask(sock_path, b"status\n", timeout)
    line = raw.split("\n", 1)[0]
    if line.startswith("error "):
        raise NoAnswer("the guest: %s" % line[6:])
    try:
        doc = json.loads(line)
    except ValueError:
        raise NoAnswer("the guest's status document is not JSON")
    nic_uplink = {v.partition("/")[0]: v.partition("/")[2] for v in uplinks.values()}
    for c in doc["connections"]:
        for sf in c["subflows"]:
            sf["uplink"] = nic_uplink.get(sf["nic"], "?")
    # The uplinks whose network drops MPTCP, by name (init/mpblock.h).
    doc["mptcp_blocked"] = [{"nic": n["nic"], "uplink": nic_uplink.get(n["nic"], "?"), "what": n["mptcp"],
                             "since_s": n["mptcp_since_s"]}
                            for n in doc["nics"] if n.get("mptcp", "ok") != "ok"]
    return doc


def blocked_lines(doc):
    """One line per uplink whose network drops MPTCP, as status and check print them."""
    return ["uplink %s (%s): %s, for %d s; retried with a backoff" % (
        b["nic"], b["uplink"], BLOCKED.get(b["what"], b["what"]), b["since_s"] or 0) for b in doc["mptcp_blocked"]]


def parse_uplinks(text):
    m = {}
    for item in filter(None, text.split(",")):
        addr, _, name = item.partition("=")
        m[addr] = name
    return m


def connections(info, uplinks, listen_port=None):
    """MPTCP connections with their subflows (dicts), oldest first. The guest's client-side
    sockets (its SOCKS port) are not MPTCP and are left out."""
    conns = []
    for m in info["msk"]:
        if listen_port and m["local"].endswith(":%s" % listen_port):
            continue
        sfs = []
        for s in info["sf"]:
            if s.get("token") != m.get("token"):
                continue
            laddr = s["local"].rsplit(":", 1)[0].strip("[]")
            nic, _, upl = uplinks.get(laddr, "?/?").partition("/")
            sfs.append({"id": s["id"], "local": s["local"], "remote": s["remote"], "nic": nic,
                        "uplink": upl, "state": TCP_STATES.get(s["state"], str(s["state"])),
                        "backup": bool(s["flags"] & SF_BACKUP), "rtt_ms": s["rtt_us"] / 1000.0,
                        "bytes_sent": s["sent"], "bytes_acked": s["acked"],
                        "bytes_received": s["received"], "retransmits": s["retrans"]})
        sfs.sort(key=lambda s: (s["id"], s["local"]))
        conns.append({"token": m["token"], "local": m["local"], "remote": m["remote"],
                      "state": TCP_STATES.get(m["state"], str(m["state"])),
                      "fallback": bool(m["flags"] & FALLBACK), "subflows": sfs,
                      "bytes_sent": m["sent"], "bytes_received": m["received"],
                      "bytes_retransmitted": m["retrans"]})
    return conns


def human(n):
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1000.0
    return str(n)


def print_conn(c, indent="  "):
    kind = "fallback to TCP" if c["fallback"] else "MPTCP, %d subflow%s" % (
        len(c["subflows"]), "" if len(c["subflows"]) == 1 else "s")
    print("%sconnection %s -> %s (%s, %s): %s sent, %s received" % (
        indent, c["local"], c["remote"], kind, c["state"], human(c["bytes_sent"]),
        human(c["bytes_received"])))
    for s in c["subflows"]:
        print("%s  subflow %-21s via %-4s %-12s rtt %6.1f ms  sent %9s  received %9s  retrans %d%s%s" % (
            indent, s["local"], s["nic"], s["uplink"], s["rtt_ms"], human(s["bytes_sent"]),
            human(s["bytes_received"]), s["retransmits"], " (backup)" if s["backup"] else "",
            "" if s["state"] == "established" else " " + s["state"]))


def target_of(arg):
    """(host, port, tls, path) from HOST[:PORT] or http(s)://HOST[:PORT][/PATH]."""
    if "://" in arg:
        u = urllib.parse.urlsplit(arg)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("not an http or https URL: %s" % arg)
        tls = u.scheme == "https"
        port = u.port or (443 if tls else 80)
        return u.hostname, port, tls, (u.path or "/") + ("?" + u.query if u.query else "")
    host, sep, port = arg.rpartition(":")
    if not sep:
        host, port = arg, "80"
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected HOST[:PORT] or URL, got %s" % arg)
    return host.strip("[]"), int(port), int(port) == 443, "/"


def socks_connect(proxy, host, port, timeout):
    """SOCKS5 CONNECT (names resolved by the proxy); returns (socket, "BNDADDR:BNDPORT")."""
    paddr, _, pport = proxy.rpartition(":")
    s = socket.create_connection((paddr, int(pport)), timeout=timeout)
    login = os.environ.get("MPSOCKS_CHECK_USER", "")
    s.sendall(b"\x05\x02\x00\x02" if login else b"\x05\x01\x00")
    ver, method = recv_exact(s, 2)
    if method == 2 and login:
        user, _, pw = login.partition(":")
        s.sendall(bytes([1, len(user)]) + user.encode() + bytes([len(pw)]) + pw.encode())
        if recv_exact(s, 2)[1] != 0:
            raise OSError("the proxy refused the login in MPSOCKS_CHECK_USER")
    elif method != 0:
        raise OSError("the proxy wants a login: set MPSOCKS_CHECK_USER=NAME:PASS")
    try:
        dst = b"\x01" + socket.inet_aton(host)
    except OSError:
        try:
            dst = b"\x04" + socket.inet_pton(socket.AF_INET6, host)
        except OSError:
            dst = b"\x03" + bytes([len(host)]) + host.encode()
    s.sendall(b"\x05\x01\x00" + dst + struct.pack("!H", port))
    head = recv_exact(s, 4)
    if head[1] != 0:
        why = {1: "general failure", 2: "not allowed", 3: "network unreachable", 4: "host unreachable",
               5: "connection refused", 6: "TTL expired"}.get(head[1], "error %d" % head[1])
        raise OSError("the proxy could not connect to %s:%d: %s" % (host, port, why))
    if head[3] == 1:
        bnd = socket.inet_ntoa(recv_exact(s, 4))
    elif head[3] == 3:
        bnd = recv_exact(s, recv_exact(s, 1)[0]).decode()
    else:  # as the guest's info port writes an IPv6 end
        bnd = "[%s]" % socket.inet_ntop(socket.AF_INET6, recv_exact(s, 16))
    return s, "%s:%d" % (bnd, struct.unpack("!H", recv_exact(s, 2))[0])


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise OSError("the proxy closed the connection")
        b += c
    return b


def find_conn(info, uplinks, bnd, port, before):
    """The guest's connection for this check: by the local address the proxy reported, else
    the newest one to that port that was not there before."""
    conns = connections(info, uplinks)
    for c in conns:
        if c["local"] == bnd:
            return c
    new = [c for c in conns if c["local"] not in before and c["remote"].endswith(":%d" % port)]
    if new:
        return new[-1]
    for t in info["tcp"]:  # a socket the proxy could not make MPTCP at all
        if t["local"] == bnd:
            return {"local": t["local"], "remote": t["remote"], "fallback": True, "plain": True,
                    "subflows": [], "state": TCP_STATES.get(t["state"], "?"),
                    "bytes_sent": t["sent"], "bytes_received": t["received"]}
    return None


def check(sock_path, uplinks, proxy, url, n_active):
    try:
        host, port, tls, path = target_of(url)
    except ValueError as e:
        print("mpsocks: %s" % e, file=sys.stderr)
        return 2
    before = {c["local"] for c in connections(query(sock_path), uplinks)}
    t0 = time.monotonic()
    try:
        s, bnd = socks_connect(proxy, host, port, 15)
        if tls:
            s = ssl.create_default_context().wrap_socket(s, server_hostname=host)
        # At once, before the request: a server that answers and closes quickly may leave
        # nothing to see later.
        first = find_conn(query(sock_path), uplinks, bnd, port, before)
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/8.0 (mpsocks check)\r\n"
                   "Accept: */*\r\n\r\n" % (path, host)).encode())
    except (OSError, ssl.SSLError) as e:
        print("mpsocks: check %s: %s" % (url, e), file=sys.stderr)
        return 1
    s.settimeout(0.1)
    body, got, best, done_at, closed = b"", 0, first, None, False
    next_poll = time.monotonic() + 0.2
    # Read the answer while asking the guest every 0.2 s; after the answer (or the server's
    # close) give the joins up to 2 s more, as long as the connection is open.
    while time.monotonic() - t0 < 30:
        try:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
            got += len(chunk)
            if len(body) < 65536:
                body += chunk[:65536 - len(body)]
        except socket.timeout:
            pass
        except (OSError, ssl.SSLError):
            closed = True
        now = time.monotonic()
        if done_at is None and (closed or answer_complete(body, got)):
            done_at = now
        if now >= next_poll or done_at is not None:
            c = find_conn(query(sock_path), uplinks, bnd, port, before)
            if c and (best is None or len(c["subflows"]) >= len(best["subflows"])):
                best = c
            next_poll = now + 0.2
        if done_at is not None and (closed or now - done_at > 2 or
                                    (best and len(best["subflows"]) >= n_active)):
            break
        if closed:
            time.sleep(0.05)
    s.close()
    status = body.split(b"\r\n", 1)[0].decode(errors="replace")
    print("check %s through %s: %s, %s received" % (url, proxy, status or "no answer", human(got)))
    if b"MPTCP" in body and host.endswith("mptcp.dev"):
        text = body.split(b"\r\n\r\n", 1)[-1].decode(errors="replace").strip().splitlines()
        print("server says: %s" % (text[0] if text else "?"))
    if best is None:
        print("connection: not found in the guest (it ended too soon, or the guest did not answer)")
        return 1
    print_conn(best, indent="")
    try:  # an uplink that cannot join explains a missing subflow
        for line in blocked_lines(query_status(sock_path, uplinks)):
            print(line)
    except NoAnswer:
        pass
    if best["fallback"]:
        print("result: fallback to plain TCP: %s does not speak MPTCP (or something on the way "
              "strips its options)" % host if not best.get("plain") else
              "result: plain TCP: the proxy's socket to %s is not MPTCP" % host)
        return 1
    uplinks_used = {sf["uplink"] for sf in best["subflows"]}
    if len(best["subflows"]) < 2:
        print("result: MPTCP, but 1 subflow only (the other uplinks did not join)")
        return 1
    print("result: multipath: %d subflows over %d uplink%s" % (
        len(best["subflows"]), len(uplinks_used), "" if len(uplinks_used) == 1 else "s"))
    return 0


def answer_complete(body, got):
    head, sep, rest = body.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length" and v.strip().isdigit():
            return got - len(head) - 4 >= int(v.strip())
    return False


def main(argv):
    if len(argv) < 3 or argv[1] not in ("table", "json", "check", "raw"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, sock_path = argv[1], argv[2]
    uplinks = parse_uplinks(argv[3]) if len(argv) > 3 else {}
    try:
        if cmd == "raw":
            sys.stdout.write(query(sock_path)["raw"])
        elif cmd in ("table", "json"):
            doc = query_status(sock_path, uplinks)
            if cmd == "json":
                print(json.dumps({k: doc.get(k) for k in GUEST_KEYS}))
                return 0
            mem = doc["memory"]
            print("  guest: version %s, up %d s, %d of %d MiB free, sessions %d of %d" % (
                doc["version"], doc["uptime_s"], mem["available_kib"] // 1024, mem["total_kib"] // 1024,
                doc["sessions"]["used"], doc["sessions"]["max"]))
            for line in blocked_lines(doc):
                print("  " + line)
            for i, e in enumerate(doc["exits"]):
                print("  exit %d: %s %s%s" % (i + 1, e["at"], EXIT_STATES.get(e["state"], e["state"]),
                                              ", serving" if e["serving"] else ""))
            clients = doc["clients"]
            print("  SOCKS clients connected: %d%s" % (len(clients), (" (" + ", ".join(clients) + ")") if clients else ""))
            print("  connections from the proxy: %d" % len(doc["connections"]))
            for c in doc["connections"]:
                print_conn(c, indent="  ")
        else:
            return check(sock_path, uplinks, argv[4], argv[5], int(argv[6]))
    except NoAnswer as e:
        print("mpsocks: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
