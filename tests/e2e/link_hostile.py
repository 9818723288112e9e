#!/usr/bin/env python3
"""Hostile openings against an exit's link port, from a stranger without the key.

  link_hostile.py silent HOST PORT        each kind once: prints "KIND BYTES" (bytes the exit
                                          sent back before closing, within 3 s)
  link_hostile.py flood HOST PORT N       N openings, 50 at a time, the kinds in turn, from
                                          the addresses in $LINK_SOURCES in turn (else the
                                          default); prints "openings N answered BYTES"
  link_hostile.py closes HOST PORT        one connection sending nothing, from the first of
                                          $LINK_SOURCES: prints the seconds until the exit
                                          closed it (one that turned the address away closes
                                          at once)
Only ever aimed at the bed's own namespaces.
"""
import os
import socket
import sys
import time

SOCKS_GREETING = b"\x05\x01\x00"
# A TLS 1.3 ClientHello's record header and start: what a scanner's probe begins with.
TLS_HELLO = bytes.fromhex("160301012c0100012803035a") + os.urandom(280)
KINDS = ("random", "socks", "tls", "halfopen")


def payload(kind):
    if kind == "random":
        return os.urandom(300)
    if kind == "socks":
        return SOCKS_GREETING
    if kind == "tls":
        return TLS_HELLO
    return b""


def answered(host, port, kind, wait):
    """Bytes the exit sent before closing (or before WAIT seconds passed)."""
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(wait)
    got = 0
    try:
        if payload(kind):
            s.sendall(payload(kind))
        end = time.monotonic() + wait
        while time.monotonic() < end:
            data = s.recv(4096)
            if not data:
                break
            got += len(data)
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        s.close()
    return got


SOURCES = os.environ.get("LINK_SOURCES", "").split() or [""]


def flood(host, port, n):
    total, opened, socks = 0, 0, []
    while opened < n or socks:
        while opened < n and len(socks) < 50:
            kind = KINDS[opened % len(KINDS)]
            src = SOURCES[opened % len(SOURCES)]
            try:
                s = socket.create_connection((host, port), timeout=5, source_address=(src, 0))
                s.setblocking(False)
                if payload(kind):
                    try:
                        s.send(payload(kind))
                    except OSError:
                        pass
                socks.append((s, time.monotonic(), kind))
            except OSError:
                pass
            opened += 1
        keep = []
        for s, t0, kind in socks:
            try:
                data = s.recv(4096)
                if data:
                    total += len(data)
                    keep.append((s, t0, kind))
                    continue
                s.close()
            except BlockingIOError:
                # Half-open ones are held 1 s, the others until the exit closes them.
                if time.monotonic() - t0 < (1 if kind == "halfopen" else 6):
                    keep.append((s, t0, kind))
                else:
                    s.close()
            except OSError:
                s.close()
        socks = keep
        time.sleep(0.005)
    print(f"openings {n} answered {total}")


def closes(host, port):
    s = socket.create_connection((host, port), timeout=5, source_address=(SOURCES[0], 0))
    s.settimeout(10)
    t0 = time.monotonic()
    try:
        while s.recv(4096):
            pass
    except (socket.timeout, ConnectionResetError):
        pass
    print(f"{time.monotonic() - t0:.2f}")


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "silent":
        for kind in KINDS:
            print(kind, answered(host, port, kind, 3 if kind != "halfopen" else 1))
    elif mode == "flood":
        flood(host, port, int(sys.argv[4]))
    elif mode == "closes":
        closes(host, port)
    else:
        sys.exit("usage: link_hostile.py silent|flood|closes HOST PORT [N]")


if __name__ == "__main__":
    main()
