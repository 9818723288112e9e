#!/usr/bin/env python3
"""link_secrets.py KEYFILE TAG NAME PAGE PCAP...: fails (exit 1, naming what) when a capture of
the link holds the key (its text or its bytes), the request's tag, the name asked for, or a
piece of the page that crossed it."""
import base64
import sys


def main():
    keyfile, tag, name, page_file, caps = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
    key_text = open(keyfile, "rb").read().strip()
    key = base64.urlsafe_b64decode(key_text + b"=")
    page = open(page_file, "rb").read()
    needles = {
        "the key's text": key_text,
        "the key's bytes": key,
        "the request's tag": tag.encode(),
        "the name asked for": name.encode(),
        "the page's bytes": page[4096:4096 + 64],
    }
    data = b"".join(open(f, "rb").read() for f in caps)
    print(f"capture: {len(data)} bytes on the uplinks, the page {len(page)}")
    if len(data) < len(page):
        sys.exit("the capture is smaller than the page: it did not record the download")
    found = [what for what, needle in needles.items() if needle in data]
    if found:
        sys.exit("the capture holds " + ", ".join(found))


if __name__ == "__main__":
    main()
