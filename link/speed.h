/* speed.h: the two TLS 1.3 AEADs the link could use, and its X25519 exchange, timed here (PSA,
 * as the TLS record layer and handshake call them): what picks the suite is a measurement
 * inside the guest, under TCG (make bench), and the exchange bounds its handshakes a second. */
#ifndef LINK_SPEED_H
#define LINK_SPEED_H

/* Prints "AEAD MB/s" per AEAD (16 KiB records, SECONDS each) and "x25519 N/s" (a key made,
 * its public half and one agreement) on stdout: 0 or -EIO. */
int link_speed(double seconds);

#endif
