// The system OpenSSL (libssl/libcrypto, found through pkg-config) for the uplink's HTTPS transport.
// Several OpenSSL calls are macros Swift cannot import; the inline functions below wrap the ones we use.
#ifndef PIT_COPENSSL_SHIM_H
#define PIT_COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

/// SHA-256 through OpenSSL's SHA256_Init/Update/Final rather than EVP: in OpenSSL 3, the first EVP digest (and
/// the one-shot SHA256(), built on it) initialises the provider machinery, ~600 us and ~60 page faults of a
/// static program here (measured: EVP_Digest 580-800 us, these 6 us for the same first hash), which every
/// `pit run` would pay for its policy's hash. These are deprecated in OpenSSL 3 but kept; both use the same
/// CPU-specific code.
static inline void pit_sha256(const unsigned char *data, size_t count, unsigned char *out32) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, data, count);
    SHA256_Final(out32, &context);
}

static inline long pit_ssl_set_sni(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

static inline int pit_ssl_ctx_set_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

static inline X509 *pit_ssl_peer_certificate(const SSL *ssl) {
    return SSL_get1_peer_certificate(ssl);
}

/// SSL_write may be retried with the same bytes at another address (Swift does not pin array storage).
static inline long pit_ssl_ctx_set_modes(SSL_CTX *ctx) {
    return SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY);
}

/// Many HTTP servers close without close_notify after `Connection: close`; the response is complete by then.
static inline void pit_ssl_ctx_ignore_unexpected_eof(SSL_CTX *ctx) {
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
}

#endif
