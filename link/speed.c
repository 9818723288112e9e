/* speed.c: see speed.h. */
#include "speed.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <psa/crypto.h>

#define RECORD 16384

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seals RECORD-byte records with ALG under a fresh key of TYPE for SECONDS: MB/s, or -1. */
static double seal_rate(psa_key_type_t type, psa_algorithm_t alg, double seconds)
{
	static unsigned char in[RECORD], out[RECORD + 16];
	psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
	unsigned char nonce[12] = { 0 };
	psa_key_id_t key;
	size_t len, bytes = 0;
	double t0, t;

	psa_set_key_type(&attr, type);
	psa_set_key_bits(&attr, type == PSA_KEY_TYPE_AES ? 128 : 256);
	psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_ENCRYPT);
	psa_set_key_algorithm(&attr, alg);
	if (psa_generate_key(&attr, &key) != PSA_SUCCESS)
		return -1;
	t0 = now_s();
	do {
		nonce[0]++;
		if (psa_aead_encrypt(key, alg, nonce, sizeof(nonce), NULL, 0, in, RECORD, out, sizeof(out), &len) != PSA_SUCCESS) {
			psa_destroy_key(key);
			return -1;
		}
		bytes += RECORD;
	} while ((t = now_s() - t0) < seconds);
	psa_destroy_key(key);
	return (double)bytes / t / 1e6;
}

/* A fresh X25519 key, its public half, and an agreement with a peer's public key, as each
 * side of the link's handshake does once, for SECONDS: exchanges per second, or -1. */
static double x25519_rate(double seconds)
{
	psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
	unsigned char peer[32], ours[32], secret[32];
	psa_key_id_t key;
	size_t len;
	double t0, t;
	long n = 0;
	bool ok;

	psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY));
	psa_set_key_bits(&attr, 255);
	psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE | PSA_KEY_USAGE_EXPORT);
	psa_set_key_algorithm(&attr, PSA_ALG_ECDH);
	if (psa_generate_key(&attr, &key) != PSA_SUCCESS)
		return -1;
	ok = psa_export_public_key(key, peer, sizeof(peer), &len) == PSA_SUCCESS;
	psa_destroy_key(key);
	if (!ok)
		return -1;
	t0 = now_s();
	do {
		if (psa_generate_key(&attr, &key) != PSA_SUCCESS)
			return -1;
		ok = psa_export_public_key(key, ours, sizeof(ours), &len) == PSA_SUCCESS &&
		     psa_raw_key_agreement(PSA_ALG_ECDH, key, peer, sizeof(peer), secret, sizeof(secret), &len) == PSA_SUCCESS;
		psa_destroy_key(key);
		if (!ok)
			return -1;
		n++;
	} while ((t = now_s() - t0) < seconds);
	return (double)n / t;
}

int link_speed(double seconds)
{
	double gcm, chacha, x25519;

	if (psa_crypto_init() != PSA_SUCCESS)
		return -EIO;
	gcm = seal_rate(PSA_KEY_TYPE_AES, PSA_ALG_GCM, seconds);
	chacha = seal_rate(PSA_KEY_TYPE_CHACHA20, PSA_ALG_CHACHA20_POLY1305, seconds);
	x25519 = x25519_rate(seconds);
	if (gcm < 0 || chacha < 0 || x25519 < 0)
		return -EIO;
	printf("aes-128-gcm %.1f MB/s\nchacha20-poly1305 %.1f MB/s\nx25519 %.1f/s\n", gcm, chacha, x25519);
	return 0;
}
