/*
 * lscgate_bridge.h - the plain C API between rlm_lscgate.c (FreeRADIUS glue, C)
 * and the lscgate C++ core.
 *
 * Rules:
 * - Only C types cross this boundary. Strings passed in are borrowed for the
 *   duration of the call (they usually point into VALUE_PAIRs); nothing is kept.
 * - No function throws or aborts: every failure comes back as a value, and
 *   decisions fail closed (LSCGATE_ERROR must be treated as a reject).
 * - An engine is created once (module instantiate), is safe to use from many
 *   threads at once afterwards, and is freed once (module detach).
 * - Output text always ends up NUL-terminated and truncated to the buffer size.
 */
#ifndef LSCGATE_BRIDGE_H
#define LSCGATE_BRIDGE_H

#include <stddef.h>

#ifdef __cplusplus
#  define LSCGATE_NOEXCEPT noexcept
extern "C" {
#else
#  define LSCGATE_NOEXCEPT
#endif

typedef struct lscgate_engine lscgate_engine;

typedef struct lscgate_config {
	char const *database;      /* path to lscgate.db (required, opened read-only) */
	char const *policy;        /* reserved for the policy file; NULL or "" for now */
	char const *vpn_user_name; /* "cn" (User-Name is the device name) or "dn" (CN taken from a DN) */
} lscgate_config;

typedef enum lscgate_hook {
	LSCGATE_HOOK_AUTHORIZE = 0,
	LSCGATE_HOOK_POST_AUTH = 1
} lscgate_hook;

/* Facts about one request. Every string may be NULL (attribute absent). */
typedef struct lscgate_facts {
	lscgate_hook hook;
	int eap_message_present;              /* request carries EAP-Message */
	char const *client_cert_serial;       /* TLS-Client-Cert-Serial: lowercase hex, as FreeRADIUS prints it */
	char const *client_cert_issuer;       /* TLS-Client-Cert-Issuer: OpenSSL oneline DN */
	char const *client_cert_subject;      /* TLS-Client-Cert-Subject: OpenSSL oneline DN */
	char const *client_cert_common_name;  /* TLS-Client-Cert-Common-Name */
	char const *client_cert_expiration;   /* TLS-Client-Cert-Expiration: ASN.1 time text */
	char const *client_cert_valid_since;  /* TLS-Client-Cert-Valid-Since: ASN.1 time text */
	char const *client_cert_authority_key_id;  /* TLS-Client-Cert-X509v3-Authority-Key-Identifier */
	char const *client_cert_basic_constraints; /* TLS-Client-Cert-X509v3-Basic-Constraints, "CA:FALSE" */
	char const *issuer_cert_subject;      /* TLS-Cert-Subject (depth 1: the issuing CA) */
	char const *user_name;                /* User-Name */
	char const *nas_address;              /* NAS-IP-Address or the packet's source address */
} lscgate_facts;

typedef enum lscgate_decision {
	LSCGATE_ACCEPT = 0, /* admit: return ok */
	LSCGATE_REJECT = 1, /* refuse: return reject */
	LSCGATE_NOOP = 2,   /* nothing to decide on in this request (e.g. EAP still in progress) */
	LSCGATE_ERROR = 3   /* internal error (store unreadable, bad input): fail closed */
} lscgate_decision;

/* Opens the database read-only and prepares the lookups. NULL on failure, with
 * the reason in err. */
lscgate_engine *lscgate_engine_create(lscgate_config const *config, char *err, size_t err_len) LSCGATE_NOEXCEPT;

/* NULL is fine. */
void lscgate_engine_free(lscgate_engine *engine) LSCGATE_NOEXCEPT;

/* One decision. class_out receives a short class name ("lsc-valid",
 * "lsc-revoked", "lsc-superseded", "lsc-expired", "lsc-not-yet-valid",
 * "lsc-unregistered", "mic", "error"; "" for NOOP), reason_out a one-line
 * human-readable reason. */
lscgate_decision lscgate_decide(lscgate_engine *engine, lscgate_facts const *facts,
				char *class_out, size_t class_len, char *reason_out, size_t reason_len) LSCGATE_NOEXCEPT;

/* "accept", "reject", "noop", "error". */
char const *lscgate_decision_name(lscgate_decision decision) LSCGATE_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* LSCGATE_BRIDGE_H */
