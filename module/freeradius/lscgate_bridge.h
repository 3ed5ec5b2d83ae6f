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
	char const *database;          /* path to lscgate.db (required, opened read-only) */
	char const *policy;            /* policy file (TOML); NULL or "" = the built-in default */
	char const *mic_roots;         /* PEM file or directory of manufacturing roots; NULL or "" = none */
	char const *capf_certificates; /* extra CAPF certificates to trust (PEM file/dir); NULL or "" = registry only */
	char const *last_seen_database;/* where per-device "last seen" is recorded; NULL or "" = not recorded */
	char const *vpn_user_name;     /* "cn" (User-Name is the device name) or "dn" (CN taken from a DN) */
	unsigned trust_refresh;        /* seconds between checks for a CAPF rotation; 0 = only at instantiate/HUP */
	/* Called (from any thread, once per change) when the registry files changed under
	 * the module: reopened, or refused with the cause. NULL = not reported. Must not
	 * call back into the bridge. */
	void (*log_registry)(char const *message);
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
	char const *user_name;                /* User-Name */
	char const *nas_address;              /* NAS-IP-Address or the packet's source address */
} lscgate_facts;

typedef enum lscgate_decision {
	LSCGATE_ACCEPT = 0,   /* admit: return ok, add the reply attributes */
	LSCGATE_REJECT = 1,   /* refuse: return reject */
	LSCGATE_NOOP = 2,     /* nothing to decide on in this request (e.g. EAP still in progress) */
	LSCGATE_ERROR = 3,    /* internal error (store unreadable, bad input): fail closed */
	LSCGATE_RESTRICT = 4  /* admit with the policy's restricted reply (e.g. enrolment VLAN): return ok */
} lscgate_decision;

#define LSCGATE_MAX_REPLY 8

typedef struct lscgate_reply_pair {
	char name[64];   /* dictionary name, e.g. "Tunnel-Private-Group-Id", "Cisco-AVPair" */
	char value[254];
} lscgate_reply_pair;

/* One answer; fixed-size so nothing is allocated across the boundary. */
typedef struct lscgate_result {
	lscgate_decision decision;
	char cls[32];       /* "lsc-valid", "mic", ... ; "error"; "" for NOOP */
	char verdict[16];   /* "accept", "restrict", "reject", "noop", "error" */
	char device[72];    /* the device the request was about, when known */
	char reason[512];
	unsigned reply_count;
	lscgate_reply_pair reply[LSCGATE_MAX_REPLY];
} lscgate_result;

/* Opens the database read-only and prepares the lookups. NULL on failure, with
 * the reason in err. */
lscgate_engine *lscgate_engine_create(lscgate_config const *config, char *err, size_t err_len) LSCGATE_NOEXCEPT;

/* NULL is fine. */
void lscgate_engine_free(lscgate_engine *engine) LSCGATE_NOEXCEPT;

/* One decision, written to *out (always fully initialised). Also returned. */
lscgate_decision lscgate_decide(lscgate_engine *engine, lscgate_facts const *facts, lscgate_result *out) LSCGATE_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* LSCGATE_BRIDGE_H */
