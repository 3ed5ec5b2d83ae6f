/*
 * coa_wire.h over libfreeradius-radius 3.2 (FreeRADIUS's client library): the
 * only lscgate file that includes libradius.h. Each function is one call (or a
 * few) into the library, the way radclient uses it; the encoding, signing and
 * verifying are the library's.
 */
#include "coa_wire.h"

#include <freeradius/build.h> /* first: RCSIDH (used by libradius.h before it includes build.h) and autoconf.h */
#include <freeradius/libradius.h>
#include <freeradius/radpaths.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* "WHAT: <the library's last error>" into err (fr_strerror never holds a secret). */
static void set_error(char *err, size_t errlen, char const *what)
{
	char const *why;

	if (!err || errlen == 0) return;
	why = fr_strerror();
	if (why && *why) {
		snprintf(err, errlen, "%s: %s", what, why);
	} else {
		snprintf(err, errlen, "%s", what);
	}
}

int lscgate_coa_wire_init(char *err, size_t errlen)
{
	static int ready = 0;

	if (ready) return 0;
	if (fr_check_lib_magic(RADIUSD_MAGIC_NUMBER) < 0) {
		set_error(err, errlen, "libfreeradius-radius does not match the headers lscgate was built with");
		return -1;
	}
	if (dict_init(DICTDIR, "dictionary") < 0) {
		set_error(err, errlen, "cannot load the FreeRADIUS dictionaries from " DICTDIR " (freeradius-common)");
		return -1;
	}
	ready = 1;
	return 0;
}

lscgate_coa_packet *lscgate_coa_request_new(int code, char const *nas_ip, uint16_t port, char *err, size_t errlen)
{
	RADIUS_PACKET *packet;

	if (code != PW_CODE_COA_REQUEST && code != PW_CODE_DISCONNECT_REQUEST) {
		if (err && errlen) snprintf(err, errlen, "packet code %d is neither CoA-Request nor Disconnect-Request", code);
		return NULL;
	}
	packet = rad_alloc(NULL, true);
	if (!packet) {
		set_error(err, errlen, "out of memory");
		return NULL;
	}
	/* resolve = false: a literal address only, never a DNS lookup. */
	if (fr_pton(&packet->dst_ipaddr, nas_ip, -1, AF_UNSPEC, false) < 0) {
		set_error(err, errlen, "not an IP address");
		rad_free(&packet);
		return NULL;
	}
	packet->dst_port = port;
	packet->code = (unsigned int) code;
	packet->id = (int) (fr_rand() & 0xff);
	packet->sockfd = -1;
	return packet;
}

void lscgate_coa_packet_free(lscgate_coa_packet *packet)
{
	if (packet) rad_free(&packet);
}

int lscgate_coa_add(lscgate_coa_packet *packet, char const *name, char const *value, char *err, size_t errlen)
{
	/* T_OP_ADD: several Cisco-AVPair values are several attributes. */
	if (!fr_pair_make(packet, &packet->vps, name, value, T_OP_ADD)) {
		set_error(err, errlen, name);
		return -1;
	}
	return 0;
}

int lscgate_coa_send(lscgate_coa_packet *request, int fd, char const *secret, char *err, size_t errlen)
{
	int saved;

	request->sockfd = fd;
	errno = 0;
	if (rad_send(request, NULL, secret) < 0) {
		saved = errno;
		if (saved != 0) {
			if (err && errlen) snprintf(err, errlen, "sendto: %s", strerror(saved));
		} else {
			set_error(err, errlen, "cannot encode the request");
		}
		errno = saved;
		return -1;
	}
	return 0;
}

lscgate_coa_packet *lscgate_coa_recv(int fd, char *err, size_t errlen)
{
	RADIUS_PACKET *reply = rad_recv(NULL, fd, 0);

	if (!reply) set_error(err, errlen, "not a RADIUS packet");
	return reply;
}

int lscgate_coa_answers(lscgate_coa_packet const *reply, lscgate_coa_packet const *request)
{
	return reply->id == request->id && reply->src_port == request->dst_port &&
	       fr_ipaddr_cmp(&reply->src_ipaddr, &request->dst_ipaddr) == 0;
}

int lscgate_coa_verify(lscgate_coa_packet *reply, lscgate_coa_packet *request, char const *secret, char *err,
		       size_t errlen)
{
	if (rad_verify(reply, request, secret) < 0) {
		set_error(err, errlen, "reply refused");
		return -1;
	}
	if (rad_decode(reply, request, secret) < 0) {
		set_error(err, errlen, "reply attributes cannot be decoded");
		return -2;
	}
	return 0;
}

int lscgate_coa_code(lscgate_coa_packet const *packet)
{
	return (int) packet->code;
}

long lscgate_coa_error_cause(lscgate_coa_packet const *reply)
{
	VALUE_PAIR *vp = fr_pair_find_by_num(reply->vps, PW_ERROR_CAUSE, 0, TAG_ANY);

	return vp ? (long) vp->vp_integer : -1;
}
