/* tls.c: mbedTLS set up for the link, and the socket I/O under it. */
#include "tls.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/psa_util.h>
#include <psa/crypto.h>

/* One suite and one group, the same at both ends: no HelloRetryRequest, whose answer would
 * come before the key is checked. ChaCha20-Poly1305: no AES instructions under TCG. */
static const int suites[] = { MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256, 0 };
static const uint16_t groups[] = { MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_NONE };

int link_tls_init(struct link_tls *t, int endpoint, const struct link_key *key)
{
	mbedtls_ssl_config_init(&t->conf);
	if (psa_crypto_init() != PSA_SUCCESS ||
	    mbedtls_ssl_config_defaults(&t->conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		return -EIO;
	/* PSA's generator, the one that reseeds itself in a forked child (3.6.6, CVE-2026-25835):
	 * each connection's process is a fork, and a generator of our own, seeded once in the
	 * parent, gave every connection the same hello randoms. */
	mbedtls_ssl_conf_rng(&t->conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
	mbedtls_ssl_conf_min_tls_version(&t->conf, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_max_tls_version(&t->conf, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_tls13_key_exchange_modes(&t->conf, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL);
	mbedtls_ssl_conf_ciphersuites(&t->conf, suites);
	mbedtls_ssl_conf_groups(&t->conf, groups);
	mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_NONE); /* no certificates: the PSK authenticates */
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
	if (endpoint == MBEDTLS_SSL_IS_CLIENT)
		mbedtls_ssl_conf_session_tickets(&t->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
	if (mbedtls_ssl_conf_psk(&t->conf, key->psk, LINK_KEY_LEN, key->id, LINK_ID_LEN) != 0)
		return -EIO;
	return 0;
}

void link_tls_free(struct link_tls *t)
{
	mbedtls_ssl_config_free(&t->conf);
}

static int send_cb(void *ctx, const unsigned char *buf, size_t len)
{
	struct link_conn *c = ctx;
	ssize_t n;

	/* An alert record (type 21) before the peer proved the key: swallowed, not sent. */
	if (c->silent && !c->established && len > 0 && buf[0] == MBEDTLS_SSL_MSG_ALERT)
		return (int)len;
	do
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : (int)n;
}

static int recv_cb(void *ctx, unsigned char *buf, size_t len)
{
	struct link_conn *c = ctx;
	ssize_t n;

	do
		n = recv(c->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	/* A receive timeout: the handshake's deadline, or afterwards the pump's quiet check
	 * (link_conn_read), which resumes the record. */
	if (n < 0 && errno == EAGAIN)
		return c->established ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_SSL_TIMEOUT;
	if (n < 0)
		return MBEDTLS_ERR_NET_RECV_FAILED;
	return n == 0 ? MBEDTLS_ERR_NET_CONN_RESET : (int)n;
}

int link_conn_handshake(struct link_conn *c, struct link_tls *t, int fd)
{
	int ret;

	mbedtls_ssl_init(&c->ssl);
	c->fd = fd;
	c->established = false;
	c->tls_error = 0;
	/* (c->proven is the caller's) */
	c->silent = mbedtls_ssl_conf_get_endpoint(&t->conf) == MBEDTLS_SSL_IS_SERVER;
	if (mbedtls_ssl_setup(&c->ssl, &t->conf) != 0)
		return -EIO;
	mbedtls_ssl_set_bio(&c->ssl, c, send_cb, recv_cb, NULL);
	/* Step by step: the server's state passes CLIENT_HELLO only when the hello's PSK binder
	 * verified, which proves the key before the slow rest (X25519, the peer's Finished). */
	do {
		ret = mbedtls_ssl_handshake_step(&c->ssl);
		if (c->proven && c->ssl.MBEDTLS_PRIVATE(state) > MBEDTLS_SSL_CLIENT_HELLO)
			*c->proven = 1;
	} while (ret == 0 && !mbedtls_ssl_is_handshake_over(&c->ssl));
	if (ret == 0) {
		c->established = true;
		return 0;
	}
	switch (ret) {
	case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
	case MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY:
	case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
	case MBEDTLS_ERR_SSL_DECODE_ERROR:
	case MBEDTLS_ERR_SSL_INVALID_RECORD:
	case MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION:
	case MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER:
	case MBEDTLS_ERR_SSL_INVALID_MAC:
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
	case MBEDTLS_ERR_NET_CONN_RESET:
		return -EACCES;
	default:
		return -EIO;
	}
}

int link_conn_write(struct link_conn *c, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int n;

	while (len > 0) {
		n = mbedtls_ssl_write(&c->ssl, p, len);
		if (n < 0) {
			c->tls_error = n;
			return -EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int link_conn_read(struct link_conn *c, void *buf, size_t len)
{
	int n;

	for (;;) {
		n = mbedtls_ssl_read(&c->ssl, buf, len);
		if (n >= 0)
			return n;
		if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || n == MBEDTLS_ERR_NET_CONN_RESET)
			return 0;
		/* A TLS 1.3 server may send tickets after the handshake: not data, read on. */
		if (n == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
			continue;
		if (n == MBEDTLS_ERR_SSL_WANT_READ)
			return -EAGAIN;
		c->tls_error = n;
		return -EIO;
	}
}

size_t link_conn_pending(const struct link_conn *c)
{
	return mbedtls_ssl_get_bytes_avail(&c->ssl);
}

void link_conn_close_write(struct link_conn *c)
{
	mbedtls_ssl_close_notify(&c->ssl);
	shutdown(c->fd, SHUT_WR);
}

void link_conn_free(struct link_conn *c)
{
	mbedtls_ssl_free(&c->ssl);
}
