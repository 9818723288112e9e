#!/usr/bin/env python3
"""Sends one kind of malformed SOCKS input to the proxy, then checks the proxy still serves a
well-formed SOCKS5 CONNECT to the test server.  Exit 0: the bad input was not accepted and the
proxy still works; 1 otherwise (the reason on stderr).  BIND and UDP ASSOCIATE count as bad
input: the proxy offers CONNECT only.

  socks_garbage.py [--user NAME:PASS] PROXY_ADDR PROXY_PORT SERVER_ADDR SERVER_PORT CASE
  socks_garbage.py --list

With --user (a proxy that requires RFC 1929 username/password, such as the exit) the cases
that begin with a greeting first log in with NAME:PASS, so the bad request itself reaches the
proxy's request parser, and the check afterwards logs in too."""
import os
import socket
import struct
import sys
import time

GREET = b"\x05\x01\x00"
GREET_USER = b"\x05\x01\x02"


def connect_req(cmd, atyp_addr, port=80):
    return b"\x05" + bytes([cmd]) + b"\x00" + atyp_addr + struct.pack(">H", port)


def ipv4(addr):
    return b"\x01" + socket.inet_aton(addr)


# Each case: (bytes sent after connecting, whether a SOCKS5 reply may legitimately follow the
# greeting). The check is that no reply ever says "succeeded" for a bad request.
def cases(server):
    name255 = b"a" * 255
    return {
        "random garbage": os.urandom(4096),
        "truncated greeting": b"\x05",
        "greeting with zero methods": b"\x05\x00",
        "truncated request": GREET + b"\x05\x01\x00\x03\x20ab",
        "oversized name (255 bytes, no such host)": GREET + connect_req(1, b"\x03\xff" + name255),
        "name longer than its length byte": GREET + connect_req(1, b"\x03\xff" + b"b" * 2000),
        "unknown command 0x09": GREET + connect_req(9, ipv4(server)),
        "unknown address type 0x09": GREET + b"\x05\x01\x00\x09" + b"\x00" * 6,
        "SOCKS4 request": b"\x04\x01\x00\x50" + socket.inet_aton(server) + b"x\x00",
        "wrong version in request": GREET + b"\x06\x01\x00" + ipv4(server)[0:] + b"\x00\x50",
        "BIND request": GREET + connect_req(2, ipv4(server)),
        "UDP ASSOCIATE request": GREET + connect_req(3, ipv4("0.0.0.0"), 0),
    }


def read_all(s, limit=2.0):
    """Reads until the proxy closes or `limit` seconds pass; returns the bytes."""
    s.settimeout(0.2)
    data, end = b"", time.monotonic() + limit
    while time.monotonic() < end:
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def login(s, user):
    """Greeting offering username/password, then RFC 1929 with USER (NAME:PASS); None or why not."""
    name, pw = user.encode().split(b":", 1)
    s.sendall(GREET_USER)
    if s.recv(2) != b"\x05\x02":
        return "the proxy did not choose username/password"
    s.sendall(b"\x01" + bytes([len(name)]) + name + bytes([len(pw)]) + pw)
    if s.recv(2) != b"\x01\x00":
        return "the proxy refused the login"
    return None


def send_bad(proxy, port, payload, user):
    """Returns what the proxy answered; with USER, what it answered after the login."""
    s = socket.create_connection((proxy, port), timeout=5)
    if user and payload.startswith(GREET):
        err = login(s, user)
        if err:
            s.close()
            raise RuntimeError(err)
        payload = payload[len(GREET):]
    try:
        s.sendall(payload)
    except OSError:
        pass  # the proxy may close early: that is a fine answer
    data = read_all(s)
    s.close()
    if user and data:
        data = b"\x05\x00" + data  # as if no authentication: succeeded() reads one layout
    return data


def succeeded(payload, data):
    """True when the proxy answered a request with REP=0 (success) to a bad request."""
    if not payload.startswith(GREET) or len(data) < 4:
        return False
    return data[0:2] == b"\x05\x00" and data[2] == 5 and data[3] == 0


def proxy_works(proxy, port, server, sport, user):
    s = socket.create_connection((proxy, port), timeout=10)
    s.settimeout(10)
    if user:
        err = login(s, user)
        if err:
            return err
    else:
        s.sendall(GREET)
        if s.recv(2) != b"\x05\x00":
            return "greeting refused"
    s.sendall(connect_req(1, ipv4(server), sport))
    rep = s.recv(10)
    if len(rep) < 2 or rep[1] != 0:
        return "CONNECT refused: %r" % rep
    s.sendall(b"GET /bytes/4096?tag=garbage-probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    body = data.split(b"\r\n\r\n", 1)
    if len(body) != 2 or len(body[1]) != 4096:
        return "short answer from the server through the proxy (%d bytes)" % len(data)
    return None


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--list":
        print("\n".join(cases("0.0.0.0")))
        return 0
    args, user = sys.argv[1:], None
    if len(args) == 7 and args[0] == "--user" and ":" in args[1]:
        user, args = args[1], args[2:]
    if len(args) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    proxy, port, server, sport, case = args[0], int(args[1]), args[2], int(args[3]), args[4]
    payload = cases(server)[case]
    try:
        data = send_bad(proxy, port, payload, user)
    except (OSError, RuntimeError) as e:
        print("%s: could not send it: %s" % (case, e), file=sys.stderr)
        return 1
    print("%s: proxy answered %r" % (case, data[:16]), file=sys.stderr)
    if succeeded(payload, data):
        print("the proxy reported success for a malformed request", file=sys.stderr)
        return 1
    err = proxy_works(proxy, port, server, sport, user)
    if err:
        print("proxy broken after the bad input: " + err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
