#!/usr/bin/env python3
"""link_flights.py PCAP PORT FAR: the round trips between entry and exit before the exit's SYN
to the server FAR, from a capture at the exit (PORT: the exit's). Prints "N FLIGHTS": each run
of the entry's packets (A) that waited for an answer (B) counts once; a trailing A (the request
with the client's Finished) waits for nothing."""
import subprocess
import sys


def main():
    cap, port, far = sys.argv[1], sys.argv[2], sys.argv[3]
    out = subprocess.run(["tshark", "-r", cap, "-T", "fields", "-E", "separator= ", "-e", "frame.time_epoch",
                          "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport",
                          "-e", "tcp.flags.syn", "-e", "tcp.flags.ack", "-e", "tcp.len"],
                         capture_output=True, text=True).stdout
    rows = [line.split() for line in out.splitlines() if len(line.split()) == 8]
    yes = ("1", "True")
    first = next(r for r in rows if r[4] == port and r[5] in yes and r[6] not in yes)
    flow = {(first[1], first[2]), (first[3], first[4])}
    syn_far = next(float(r[0]) for r in rows if r[3] == far and r[5] in yes and r[6] not in yes)
    dirs = "".join("A" if r[4] == port else "B" for r in rows if float(r[0]) < syn_far and
                   {(r[1], r[2]), (r[3], r[4])} == flow and (r[5] in yes or int(r[7]) > 0))
    print(dirs.rstrip("A").count("AB"), dirs)


if __name__ == "__main__":
    main()
