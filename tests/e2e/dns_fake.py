#!/usr/bin/env python3
"""A resolver for the dual-stack bed that answers as real ones do, including badly.

    dns_fake.py ADDR [--a NAME=IP]... [--aaaa NAME=IP]... [--refuse-aaaa NAME]...

UDP on ADDR:53. A name with records of the asked type gets them; a known name without them
gets an empty answer (NOERROR); an unknown name NXDOMAIN. --refuse-aaaa answers a name's AAAA
query with REFUSED, as some home routers and mobile networks' resolvers do. One line per query
on stdout, after "listening" on stderr.
"""
import argparse
import ipaddress
import socket
import struct
import sys

A, AAAA = 1, 28
NOERROR, NXDOMAIN, REFUSED = 0, 3, 5


def parse_query(msg):
    """(id, flags, qname, qtype, question bytes) or None for what is not one question."""
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack('!HHH', msg[:6])
    if qd != 1 or flags & 0x8000:
        return None
    pos, labels = 12, []
    while pos < len(msg) and msg[pos]:
        n = msg[pos]
        if n & 0xc0:
            return None
        labels.append(msg[pos + 1:pos + 1 + n].decode('ascii', 'replace').lower())
        pos += 1 + n
    if pos + 5 > len(msg):
        return None
    qtype, = struct.unpack('!H', msg[pos + 1:pos + 3])
    return qid, flags, '.'.join(labels), qtype, msg[12:pos + 5]


def answer(query, records, refuse_aaaa):
    qid, flags, name, qtype, question = query
    known = name in records or name in refuse_aaaa
    rdatas = records.get(name, {}).get(qtype, [])
    if qtype == AAAA and name in refuse_aaaa:
        rcode, rdatas = REFUSED, []
    else:
        rcode = NOERROR if known else NXDOMAIN
    # QR, the query's opcode and RD, AA, RA.
    out_flags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | rcode
    msg = struct.pack('!HHHHHH', qid, out_flags, 1, len(rdatas), 0, 0) + question
    for rdata in rdatas:
        msg += struct.pack('!HHHIH', 0xc00c, qtype, 1, 60, len(rdata)) + rdata
    return msg, rcode, len(rdatas)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('addr')
    p.add_argument('--a', action='append', default=[])
    p.add_argument('--aaaa', action='append', default=[])
    p.add_argument('--refuse-aaaa', action='append', default=[])
    args = p.parse_args()
    records = {}
    for qtype, items in ((A, args.a), (AAAA, args.aaaa)):
        for item in items:
            name, ip = item.split('=', 1)
            packed = ipaddress.ip_address(ip).packed
            records.setdefault(name.lower(), {}).setdefault(qtype, []).append(packed)
    refuse = {n.lower() for n in args.refuse_aaaa}
    family = socket.AF_INET6 if ':' in args.addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((args.addr, 53))
    print('dns_fake: listening on %s:53' % args.addr, file=sys.stderr, flush=True)
    names = {A: 'A', AAAA: 'AAAA'}
    while True:
        msg, peer = s.recvfrom(4096)
        query = parse_query(msg)
        if query is None:
            continue
        reply, rcode, n = answer(query, records, refuse)
        s.sendto(reply, peer)
        print('%s %s %s -> rcode %d, %d records' % (peer[0], names.get(query[3], query[3]),
                                                     query[2], rcode, n), flush=True)


if __name__ == '__main__':
    main()
