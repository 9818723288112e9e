/* tls.h: the link's TLS 1.3 (mbedTLS): a pre-shared key with an ephemeral X25519 exchange
 * (PSK-DHE: both ends prove the key, and a later theft of it does not open recorded traffic),
 * no certificates. Before its handshake has succeeded, the exit writes no alert: a peer
 * without the key hears nothing at all. */
#ifndef LINK_TLS_H
#define LINK_TLS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <mbedtls/ssl.h>

#include "key.h"

struct link_tls {
	mbedtls_ssl_config conf;
};

struct link_conn {
	mbedtls_ssl_context ssl;
	int fd;
	bool established; /* the handshake succeeded: from now on alerts may be sent */
	bool silent;      /* the exit's side: no alert to an unproven peer */
	/* The exit's side, if not NULL: set to 1 once the peer's ClientHello carried a valid PSK
	 * binder (it holds the key), before the handshake ends. */
	volatile sig_atomic_t *proven;
	int tls_error; /* mbedTLS's code of the last failed read or write (for the log) */
};

/* The configuration of one end (MBEDTLS_SSL_IS_CLIENT: the entry, _SERVER: the exit): 0 or
 * -EIO. */
int link_tls_init(struct link_tls *t, int endpoint, const struct link_key *key);
void link_tls_free(struct link_tls *t);

/* Runs the handshake on connected socket FD (blocking), C->proven set beforehand (or NULL):
 * 0, or -EACCES when the peer did not prove the key (or is no link peer), -EIO otherwise. */
int link_conn_handshake(struct link_conn *c, struct link_tls *t, int fd);
/* All of BUF, or -EIO. */
int link_conn_write(struct link_conn *c, const void *buf, size_t len);
/* Up to LEN bytes: their count, 0 at the peer's close_notify or EOF, -EIO, or -EAGAIN when
 * the socket's receive timeout (SO_RCVTIMEO, set by the pump) passed with a record still
 * incomplete: call again, the part read is kept. */
int link_conn_read(struct link_conn *c, void *buf, size_t len);
/* Bytes already decrypted and waiting (poll does not see them). */
size_t link_conn_pending(const struct link_conn *c);
/* close_notify: this side sends no more. */
void link_conn_close_write(struct link_conn *c);
void link_conn_free(struct link_conn *c);

#endif
