/* The TLS tests' certificates, made by the test itself in a fresh directory (no private key is
 * ever committed): a CA, certificates it signs for the server (valid, expired, for the wrong
 * name, for a second name served by SNI) and for a client, a self-signed server certificate, and
 * a server certificate from a CA nobody trusts. ECDSA P-256 keys: quick to make. */
#ifndef CORIO_TESTS_TLS_PKI_H
#define CORIO_TESTS_TLS_PKI_H

#include <criterion/criterion.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct pki {
    char dir[64];
    char path[16][128]; /* see the PKI_* names */
} pki;

/* Files in pki.path: a certificate and its key for each. */
enum {
    PKI_CA, PKI_CA_KEY,
    PKI_SERVER, PKI_SERVER_KEY,         /* localhost, 127.0.0.1, ::1 */
    PKI_EXPIRED, PKI_EXPIRED_KEY,       /* localhost, expired yesterday */
    PKI_WRONG, PKI_WRONG_KEY,           /* wrong.example only */
    PKI_OTHER, PKI_OTHER_KEY,           /* other.test (SNI) */
    PKI_CLIENT, PKI_CLIENT_KEY,         /* CN=client */
    PKI_SELF, PKI_SELF_KEY,             /* localhost, self-signed */
    PKI_ROGUE, PKI_ROGUE_KEY,           /* localhost, from a CA not trusted */
};

static inline void pki_write_key(EVP_PKEY *key, const char *path)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "%s: %s", path, strerror(errno));
    cr_assert(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
    fclose(f);
}

static inline void pki_write_cert(X509 *cert, X509 *issuer, const char *path)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "%s: %s", path, strerror(errno));
    cr_assert(PEM_write_X509(f, cert));
    if (issuer) /* the chain: what a server sends */
        cr_assert(PEM_write_X509(f, issuer));
    fclose(f);
}

static inline void pki_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    cr_assert(ext, "extension %d = %s", nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/* A certificate for key, named cn, valid from `from` to `to` seconds from now, signed by
 * issuer's key (self-signed when issuer is NULL). san: a subjectAltName value or NULL. */
static inline X509 *pki_cert(EVP_PKEY *key, const char *cn, const char *san, X509 *issuer,
                             EVP_PKEY *issuer_key, long from, long to, int ca)
{
    static long serial = 1;
    X509 *c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial++ + (long)getpid() * 100);
    X509_gmtime_adj(X509_getm_notBefore(c), from);
    X509_gmtime_adj(X509_getm_notAfter(c), to);
    X509_set_pubkey(c, key);
    X509_NAME *name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"corio tests", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509 *signer = issuer ? issuer : c;
    pki_ext(c, signer, NID_subject_key_identifier, "hash");
    if (ca) {
        pki_ext(c, signer, NID_basic_constraints, "critical,CA:TRUE");
        pki_ext(c, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        pki_ext(c, signer, NID_basic_constraints, "critical,CA:FALSE");
        pki_ext(c, signer, NID_authority_key_identifier, "keyid");
        pki_ext(c, signer, NID_ext_key_usage, "serverAuth,clientAuth");
    }
    if (san)
        pki_ext(c, signer, NID_subject_alt_name, san);
    cr_assert(X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()));
    return c;
}

/* One leaf: its key and certificate (with the issuer after it) at path[idx], path[idx + 1]. */
static inline void pki_leaf(pki *p, int idx, const char *cn, const char *san, X509 *ca,
                            EVP_PKEY *ca_key, long from, long to)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    cr_assert(key);
    X509 *c = pki_cert(key, cn, san, ca, ca_key, from, to, 0);
    pki_write_cert(c, ca, p->path[idx]);
    pki_write_key(key, p->path[idx + 1]);
    X509_free(c);
    EVP_PKEY_free(key);
}

/* The whole PKI, or (all 0) the CA and the server's certificate only: two keys instead of
 * eight, for a test that only needs a TLS connection (the stream tests' relay). */
static inline void pki_make_some(pki *p, int all)
{
    static const char *names[] = {"ca.pem", "ca.key", "server.pem", "server.key", "expired.pem",
                                  "expired.key", "wrong.pem", "wrong.key", "other.pem",
                                  "other.key", "client.pem", "client.key", "self.pem", "self.key",
                                  "rogue.pem", "rogue.key"};
    snprintf(p->dir, sizeof p->dir, "/tmp/corio-tls-XXXXXX");
    cr_assert(mkdtemp(p->dir), "mkdtemp: %s", strerror(errno));
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        snprintf(p->path[i], sizeof p->path[i], "%s/%s", p->dir, names[i]);
    const long day = 86400;
    EVP_PKEY *ca_key = EVP_EC_gen("P-256");
    X509 *ca = pki_cert(ca_key, "corio test CA", NULL, NULL, NULL, -day, 30 * day, 1);
    pki_write_cert(ca, NULL, p->path[PKI_CA]);
    pki_write_key(ca_key, p->path[PKI_CA_KEY]);
    const char *local = "DNS:localhost,IP:127.0.0.1,IP:::1";
    pki_leaf(p, PKI_SERVER, "localhost", local, ca, ca_key, -day, 30 * day);
    if (!all) {
        X509_free(ca);
        EVP_PKEY_free(ca_key);
        return;
    }
    pki_leaf(p, PKI_EXPIRED, "localhost", local, ca, ca_key, -30 * day, -day);
    pki_leaf(p, PKI_WRONG, "wrong.example", "DNS:wrong.example", ca, ca_key, -day, 30 * day);
    pki_leaf(p, PKI_OTHER, "other.test", "DNS:other.test,DNS:*.other.test", ca, ca_key, -day,
             30 * day);
    pki_leaf(p, PKI_CLIENT, "client", NULL, ca, ca_key, -day, 30 * day);
    pki_leaf(p, PKI_SELF, "localhost", local, NULL, NULL, -day, 30 * day);
    EVP_PKEY *rogue_key = EVP_EC_gen("P-256");
    X509 *rogue = pki_cert(rogue_key, "rogue CA", NULL, NULL, NULL, -day, 30 * day, 1);
    pki_leaf(p, PKI_ROGUE, "localhost", local, rogue, rogue_key, -day, 30 * day);
    X509_free(rogue);
    EVP_PKEY_free(rogue_key);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
}

static inline void pki_make(pki *p) { pki_make_some(p, 1); }

static inline void pki_remove(pki *p)
{
    for (size_t i = 0; i < sizeof p->path / sizeof p->path[0]; i++)
        if (p->path[i][0])
            unlink(p->path[i]);
    rmdir(p->dir);
}

#endif
