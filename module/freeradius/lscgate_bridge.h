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
	char const *database;          /* path to lscgate.db, or a PostgreSQL URI/conninfo (required, read-only) */
	char const *policy;            /* policy file (TOML); NULL or "" = the built-in default */
	char const *mic_roots;         /* PEM file or directory of manufacturing roots; NULL or "" = none */
	char const *capf_certificates; /* extra CAPF certificates to trust (PEM file/dir); NULL or "" = registry only */
	char const *last_seen_database;/* where per-device "last seen" is recorded; NULL or "" = not recorded */
	char const *vpn_user_name;     /* "cn" (User-Name is the device name) or "dn" (CN taken from a DN) */
	unsigned trust_refresh;        /* seconds between checks for a CAPF rotation; 0 = only at instantiate/HUP */
	unsigned read_connections;     /* registry read connections, 1-64 (0 = 4); PostgreSQL: per instance */
	unsigned registry_outage_grace;/* PostgreSQL: seconds a device seen before an outage is answered from its
	                                  last known row (0 = fail closed at once; at most 86400) */
	/* Called (from any thread, once per change) when the registry files changed under
	 * the module (reopened, or refused with the cause), or a PostgreSQL registry
	 * became unreachable or answers again. NULL = not reported. Must not call back
	 * into the bridge. */
	void (*log_registry)(char const *message);
	char const *node_name;         /* this RADIUS node in last-seen; NULL or "" = the host name */
	int registry_change_watch;     /* PostgreSQL: nonzero = LISTEN for registry changes and answer a device
	                                  whose row is unchanged from memory; 0 = read the change counter per request */
} lscgate_config;

typedef enum lscgate_hook {
	LSCGATE_HOOK_AUTHORIZE = 0,
	LSCGATE_HOOK_POST_AUTH = 1
} lscgate_hook;

/*
 * The request attributes the module reads, by index into lscgate_facts.values.
 * Each is single-valued in a sane request (RFC 2865 section 5: User-Name,
 * NAS-IP-Address 0-1; FreeRADIUS adds one TLS-Client-Cert-* set per client
 * certificate). lscgate_attribute_name() gives the dictionary name.
 */
typedef enum lscgate_attr {
	LSCGATE_ATTR_CLIENT_CERT_SERIAL = 0,        /* lowercase hex, as FreeRADIUS prints it */
	LSCGATE_ATTR_CLIENT_CERT_ISSUER,            /* OpenSSL oneline DN */
	LSCGATE_ATTR_CLIENT_CERT_SUBJECT,           /* OpenSSL oneline DN */
	LSCGATE_ATTR_CLIENT_CERT_COMMON_NAME,
	LSCGATE_ATTR_CLIENT_CERT_EXPIRATION,        /* ASN.1 time text */
	LSCGATE_ATTR_CLIENT_CERT_VALID_SINCE,       /* ASN.1 time text */
	LSCGATE_ATTR_CLIENT_CERT_AUTHORITY_KEY_ID,  /* X509v3-Authority-Key-Identifier */
	LSCGATE_ATTR_CLIENT_CERT_BASIC_CONSTRAINTS, /* X509v3-Basic-Constraints, "CA:FALSE" */
	LSCGATE_ATTR_USER_NAME,
	LSCGATE_ATTR_NAS_IP_ADDRESS,
	LSCGATE_ATTR_NAS_IPV6_ADDRESS,
	LSCGATE_ATTR_EAP_TYPE,                      /* the EAP method, by its dictionary VALUE name ("TLS", "MD5") */
	/* From here on: recorded in last-seen only, never decided on, so a repeat is not refused. */
	LSCGATE_ATTR_CALLING_STATION_ID,            /* RFC 2865 section 5.31 */
	LSCGATE_ATTR_NAS_PORT_ID,                   /* RFC 2869 section 5.17 */
	LSCGATE_ATTR_ACCT_SESSION_ID,               /* RFC 2866 section 5.5 */
	LSCGATE_ATTR_COUNT
} lscgate_attr;

/* "TLS-Client-Cert-Serial", ...; NULL for an index out of range. */
char const *lscgate_attribute_name(lscgate_attr attr) LSCGATE_NOEXCEPT;

/* One attribute as found in the request: its first value as text, and how many
 * values it carried. value NULL and count 0: absent. */
typedef struct lscgate_value {
	char const *value;
	unsigned count;
} lscgate_value;

#define LSCGATE_MAX_AVPAIRS 16

/* Facts about one request. */
typedef struct lscgate_facts {
	lscgate_hook hook;
	int eap_message_present;              /* request carries EAP-Message */
	int eap_success_in_reply;             /* post-auth: the reply already carries an EAP-Success (code 3) */
	lscgate_value values[LSCGATE_ATTR_COUNT];
	char const *nas_address;              /* NAS-IP-Address, NAS-IPv6-Address or the packet's source address */
	int log_plain_accepts;                /* 0: no log_line for an accept of class lsc-valid (logged only when debugging) */
	/* Cisco-AVPair values (vendor 9, attribute 1), the first LSCGATE_MAX_AVPAIRS in
	 * request order, for last-seen (the core takes audit-session-id=... from them). */
	char const *cisco_avpairs[LSCGATE_MAX_AVPAIRS];
	unsigned cisco_avpair_count;
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
	char log_line[1024]; /* the whole line to log: "reject [mic] SEP…: … (NAS 10.1.2.3)" - one per refusal */
	unsigned reply_count;
	lscgate_reply_pair reply[LSCGATE_MAX_REPLY];
} lscgate_result;

/* Opens the database read-only and prepares the lookups. NULL on failure, with
 * the reason in err. */
lscgate_engine *lscgate_engine_create(lscgate_config const *config, char *err, size_t err_len) LSCGATE_NOEXCEPT;

/* Load-time warnings (a policy the 802.1X TLS layer cannot honour, weak or
 * expired CAPF / MIC root certificates): how many, and the i-th one. The text is
 * owned by the engine and valid until lscgate_engine_free; NULL when i is out of
 * range. */
size_t lscgate_engine_warning_count(lscgate_engine const *engine) LSCGATE_NOEXCEPT;
char const *lscgate_engine_warning(lscgate_engine const *engine, size_t i) LSCGATE_NOEXCEPT;

/* The database setting as it may be logged: a PostgreSQL URI/conninfo with its
 * password replaced by "***", a file path as is. Always NUL-terminates out. */
void lscgate_database_display(char const *database, char *out, size_t len) LSCGATE_NOEXCEPT;

/* NULL is fine. */
void lscgate_engine_free(lscgate_engine *engine) LSCGATE_NOEXCEPT;

/* One decision, written to *out (always fully initialised). Also returned. */
lscgate_decision lscgate_decide(lscgate_engine *engine, lscgate_facts const *facts, lscgate_result *out) LSCGATE_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* LSCGATE_BRIDGE_H */
