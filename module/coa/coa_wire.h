#ifndef LSCGATE_COA_WIRE_H
#define LSCGATE_COA_WIRE_H

/*
 * The RADIUS packet layer of the CoA client, in C: a thin shim over FreeRADIUS's
 * own client library (libfreeradius-radius 3.2, what radclient is built on), so
 * that no lscgate code encodes, signs or verifies a RADIUS packet by hand.
 * libradius.h is not valid C++ (a struct field named `virtual`, a parameter named
 * `new`), so coa_wire.c is the only file that includes it; this header is plain C
 * and is what the C++ client (coa_client.cpp) sees. A packet is an opaque handle
 * owned by the caller (the C++ side wraps it in a unique_ptr calling
 * lscgate_coa_packet_free). Nothing here logs: errors go to the caller's buffer,
 * and no error text ever contains the shared secret.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A FreeRADIUS RADIUS_PACKET (struct radius_packet), opaque to callers. */
typedef struct radius_packet lscgate_coa_packet;

/** RFC 5176 §2.3 packet codes (FreeRADIUS radius.h PW_CODE_*). */
enum {
    LSCGATE_COA_DISCONNECT_REQUEST = 40,
    LSCGATE_COA_DISCONNECT_ACK = 41,
    LSCGATE_COA_DISCONNECT_NAK = 42,
    LSCGATE_COA_COA_REQUEST = 43,
    LSCGATE_COA_COA_ACK = 44,
    LSCGATE_COA_COA_NAK = 45
};

/**
 * Once per process, before anything else (idempotent, not thread-safe): checks
 * that the library matches the headers it was compiled against
 * (fr_check_lib_magic) and loads the FreeRADIUS dictionaries from DICTDIR
 * (/usr/share/freeradius, freeradius-common), which name the attributes
 * (Cisco-AVPair, Error-Cause, ...). Returns 0, or -1 with `err` filled.
 */
int lscgate_coa_wire_init(char *err, size_t errlen);

/**
 * A new request of `code` (40 or 43) to `nas_ip` (an IPv4 or IPv6 literal, no
 * name resolution) port `port`, with a random Identifier. NULL with `err` on
 * a bad address or no memory.
 */
lscgate_coa_packet *lscgate_coa_request_new(int code, char const *nas_ip, uint16_t port, char *err, size_t errlen);

/** Frees a packet (request or reply) and its attributes; NULL is allowed. */
void lscgate_coa_packet_free(lscgate_coa_packet *packet);

/**
 * Appends attribute `name` (a dictionary name: "Calling-Station-Id",
 * "Cisco-AVPair", "Event-Timestamp" as Unix seconds, ...) with the text
 * `value`, parsed as the dictionary's type says; "Message-Authenticator" is
 * filled in when the packet is signed. Returns 0, or -1 with `err`.
 */
int lscgate_coa_add(lscgate_coa_packet *packet, char const *name, char const *value, char *err, size_t errlen);

/**
 * Sends `request` on the UDP socket `fd` (unconnected) to its NAS. The first
 * call encodes it and signs it with `secret`: the Request Authenticator is the
 * MD5 over the packet with 16 zero octets and the secret (RFC 5176 §2.3), the
 * Message-Authenticator the HMAC-MD5 (RFC 5176 §3.4); later calls resend the
 * same octets (same Identifier and authenticator: a retransmission, RFC 5080
 * §2.2.1). Returns 0, or -1 with `err` (sendto failed: errno is kept).
 */
int lscgate_coa_send(lscgate_coa_packet *request, int fd, char const *secret, char *err, size_t errlen);

/**
 * Reads one datagram from `fd` (which poll() said is readable). NULL with
 * `err` when it is not a well-formed RADIUS packet (it is consumed either way).
 */
lscgate_coa_packet *lscgate_coa_recv(int fd, char *err, size_t errlen);

/**
 * 1 when `reply` can answer `request`: the same Identifier, from the address and
 * port the request went to; else 0.
 */
int lscgate_coa_answers(lscgate_coa_packet const *reply, lscgate_coa_packet const *request);

/**
 * Verifies `reply` against `request` and `secret` — the Response Authenticator
 * (MD5 over the reply with the Request Authenticator in its place and the
 * secret, RFC 5176 §2.3) and a Message-Authenticator if present — then decodes
 * its attributes. Returns 0; -1 with `err` when a check fails (wrong shared
 * secret, or forged); -2 when the attributes cannot be decoded.
 */
int lscgate_coa_verify(lscgate_coa_packet *reply, lscgate_coa_packet *request, char const *secret, char *err,
                       size_t errlen);

/** The packet's Code (RFC 2865 §3). */
int lscgate_coa_code(lscgate_coa_packet const *packet);

/** The Error-Cause (RFC 5176 §3.5) of a decoded reply, or -1 when it has none. */
long lscgate_coa_error_cause(lscgate_coa_packet const *reply);

#ifdef __cplusplus
}
#endif

#endif /* LSCGATE_COA_WIRE_H */
