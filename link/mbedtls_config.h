/* mbedtls_config.h: mbedTLS 3.6 for the link alone (the guest image's size counts): TLS 1.3,
 * PSK with an ephemeral X25519 exchange, ChaCha20-Poly1305 and SHA-256; no certificates, no
 * TLS 1.2, nothing else. Used through MBEDTLS_CONFIG_FILE for the library and mpslink. */
#ifndef LINK_MBEDTLS_CONFIG_H
#define LINK_MBEDTLS_CONFIG_H

/* Platform */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_AES_C          /* CTR_DRBG's block cipher */
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES

/* Hashes and key derivation */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_HKDF_C

/* The AEAD: ChaCha20-Poly1305; AES-128-GCM (with AES-NI and PCLMULQDQ where the CPU has them)
 * only for `mpslink speed`, the measurement that picked ChaCha20-Poly1305 (README's bench). */
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_GCM_C
#define MBEDTLS_AESNI_C

/* X25519. EVEREST: the agreement by HACL*'s verified Curve25519 (3rdparty/everest), 6 x the
 * generic ECP's speed: the handshake's client side took 11.5 M instructions instead of 19.8 M
 * (callgrind). The public key of a new share still comes from the generic ECP. */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED

/* PSA, which TLS 1.3 runs on */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_CIPHER_MODE_CTR

/* TLS 1.3 */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE

/* The key's text */
#define MBEDTLS_BASE64_C

#endif
