/* speed.h: the two TLS 1.3 AEADs the link could use, timed here (PSA, as the TLS record layer
 * calls them): what picks the suite is a measurement inside the guest, under TCG (make bench). */
#ifndef LINK_SPEED_H
#define LINK_SPEED_H

/* Prints "AEAD MB/s" per AEAD (16 KiB records, SECONDS each) on stdout: 0 or -EIO. */
int link_speed(double seconds);

#endif
