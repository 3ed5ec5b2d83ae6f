/*
 * rlm_lscgate.c - FreeRADIUS 3.2 module: admit Cisco phones by their
 * Locally Significant Certificate, as recorded in the lscgate registry.
 *
 * This is the only file that includes FreeRADIUS headers (C, gnu11). It owns the
 * module_t, the configuration, the hooks, attribute access and logging, and it
 * hands every decision to the C++ side through lscgate_bridge.h. No policy here:
 * gather the request's facts, ask, then map the answer to an rcode and attributes.
 *
 *   authorize   - in the check-eap-tls virtual server (TLS-Client-Cert-* present):
 *                 the certificate decision; in a plain Access-Request (VPN
 *                 authorization, User-Name only): the device decision; while an
 *                 EAP conversation is still running: noop.
 *   post-auth   - the certificate decision again when TLS-Client-Cert-* is present
 *                 (for sites that decide after EAP); without them, after another EAP
 *                 method succeeded: reject. On reject an EAP-Success that rlm_eap
 *                 already put in the reply becomes an EAP-Failure.
 *
 * Logging: the core writes the line; every reject and failure is logged at normal
 * level (RINFO / RERROR), accepts and noops only in debug output. Load warnings
 * from the core (policy the 802.1X TLS layer cannot honour) are logged with WARN.
 *
 * Results: ok (accept, or restrict: admitted with the restricted reply), reject,
 * noop (nothing to decide on), fail (internal error:
 * sites must treat anything but ok as a reject). &control:LSCgate-Class and
 * &control:LSCgate-Reason carry the class and reason so unlang can look at them
 * or override the outcome (policy/dictionary.lscgate defines them).
 */
#include <freeradius/build.h> /* first: RCSID, CC_HINT and autoconf.h */
#if defined(WITH_NDEBUG) && !defined(NDEBUG)
#  error "FreeRADIUS was built with NDEBUG: compile rlm_lscgate with -DNDEBUG, or REQUEST's layout differs"
#endif
#include <freeradius/radiusd.h>
#include <freeradius/modules.h>

#include <stdlib.h>
#include <string.h>

#include "lscgate_bridge.h"

RCSID("rlm_lscgate")

typedef struct rlm_lscgate_t {
	char const		*name;
	char const		*database;
	char const		*policy;
	char const		*mic_roots;
	char const		*capf_certificates;
	char const		*last_seen_database;
	char const		*node_name;
	char const		*vpn_user_name;
	uint32_t		trust_refresh;
	uint32_t		read_connections;
	uint32_t		registry_outage_grace;
	bool			registry_change_watch;

	lscgate_engine		*engine;

	DICT_ATTR const		*da_read[LSCGATE_ATTR_COUNT];	/* what the decision reads, by lscgate_attr */
	DICT_ATTR const		*da_eap_message;
	DICT_ATTR const		*da_class;
	DICT_ATTR const		*da_reason;
	DICT_ATTR const		*da_verdict;
	DICT_ATTR const		*da_cisco_avpair;	/* NULL when the dictionary lacks Cisco's */
} rlm_lscgate_t;

static const CONF_PARSER module_config[] = {
	{ "database", FR_CONF_OFFSET(PW_TYPE_STRING | PW_TYPE_SECRET | PW_TYPE_REQUIRED | PW_TYPE_NOT_EMPTY, rlm_lscgate_t, database), NULL },
	{ "policy", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_lscgate_t, policy), "" },
	{ "mic_roots", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_lscgate_t, mic_roots), "" },
	{ "capf_certificates", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_lscgate_t, capf_certificates), "" },
	{ "last_seen_database", FR_CONF_OFFSET(PW_TYPE_STRING | PW_TYPE_SECRET, rlm_lscgate_t, last_seen_database), "" },
	{ "node_name", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_lscgate_t, node_name), "" },
	{ "trust_refresh", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_lscgate_t, trust_refresh), "10" },
	{ "read_connections", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_lscgate_t, read_connections), "4" },
	{ "registry_outage_grace", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_lscgate_t, registry_outage_grace), "0" },
	{ "registry_change_watch", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, rlm_lscgate_t, registry_change_watch), "yes" },
	{ "vpn_user_name", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_lscgate_t, vpn_user_name), "cn" },
	CONF_PARSER_TERMINATOR
};

/*
 *	One attribute the decision reads: its first value as text, and how many values
 *	the list holds. The count matters: FreeRADIUS 3.2.1 can add a second set of
 *	TLS-Client-Cert-* values (a client that sends its chain), and a NAS may repeat
 *	what RFC 2865 allows once; the core refuses such requests rather than pick one.
 *	String values are borrowed; other types are printed into buf.
 */
static lscgate_value read_value(VALUE_PAIR *list, DICT_ATTR const *da, char *buf, size_t len)
{
	vp_cursor_t cursor;
	VALUE_PAIR *vp;
	lscgate_value out = { NULL, 0 };

	for (vp = fr_cursor_init(&cursor, &list); vp; vp = fr_cursor_next(&cursor)) {
		if (vp->da != da) continue;
		if (out.count++ > 0) continue;
		if (da->type == PW_TYPE_STRING) {
			out.value = vp->vp_strvalue;
		} else {
			vp_prints_value(buf, len, vp, '\0');
			out.value = buf;
		}
	}
	return out;
}

static int find_attr(CONF_SECTION *conf, DICT_ATTR const **out, char const *name, PW_TYPE type, char const *hint)
{
	*out = dict_attrbyname(name);
	if (!*out) {
		cf_log_err_cs(conf, "Attribute %s is not defined%s", name, hint);
		return -1;
	}
	if ((*out)->type != type) {
		cf_log_err_cs(conf, "Attribute %s has an unexpected type", name);
		return -1;
	}
	return 0;
}

/*
 *	thread pool { max_servers } of radiusd.conf (the top of the module's
 *	configuration tree): no more requests than this run the
 *	module at once, so more registry connections would only sit idle (and, on
 *	PostgreSQL, take server connection slots from the other nodes). 0: not found.
 */
static uint32_t worker_threads(CONF_SECTION *conf)
{
	CONF_SECTION *top = cf_top_section(conf);
	CONF_SECTION *pool = top ? cf_section_sub_find(top, "thread") : NULL;
	CONF_PAIR *cp = pool ? cf_pair_find(pool, "max_servers") : NULL;
	char const *value = cp ? cf_pair_value(cp) : NULL;
	unsigned long n;
	char *end;

	if (!value) return 0;
	n = strtoul(value, &end, 10);
	return (*end == '\0' && n > 0 && n < 100000) ? (uint32_t) n : 0;
}

/*
 *	The registry files changed under the module (replaced, -wal/-shm deleted, cut
 *	short): it reopened them, or refuses every request until they change; or a
 *	PostgreSQL registry became unreachable / answers again. Each is worth a line
 *	in the server log, once.
 */
static void log_registry(char const *message)
{
	WARN("rlm_lscgate: %s", message);
}

static int mod_instantiate(CONF_SECTION *conf, void *instance)
{
	rlm_lscgate_t *inst = instance;
	static char const dict_hint[] = " - add \"$INCLUDE dictionary.lscgate\" to raddb/dictionary "
					"(the file is policy/dictionary.lscgate)";
	lscgate_config config;
	char err[512];
	char shown[512];
	size_t i, warnings;
	uint32_t workers;

	inst->name = cf_section_name2(conf);
	if (!inst->name) inst->name = cf_section_name1(conf);

	for (i = 0; i < LSCGATE_ATTR_COUNT; i++) {
		char const *name = lscgate_attribute_name((lscgate_attr) i);

		inst->da_read[i] = dict_attrbyname(name);
		if (!inst->da_read[i]) {
			cf_log_err_cs(conf, "Attribute %s is not defined", name);
			return -1;
		}
	}
	if (find_attr(conf, &inst->da_eap_message, "EAP-Message", PW_TYPE_OCTETS, "") < 0 ||
	    find_attr(conf, &inst->da_class, "LSCgate-Class", PW_TYPE_STRING, dict_hint) < 0 ||
	    find_attr(conf, &inst->da_reason, "LSCgate-Reason", PW_TYPE_STRING, dict_hint) < 0 ||
	    find_attr(conf, &inst->da_verdict, "LSCgate-Verdict", PW_TYPE_STRING, dict_hint) < 0) {
		return -1;
	}
	inst->da_cisco_avpair = dict_attrbyname("Cisco-AVPair");	/* optional: only for last-seen */

	if (inst->read_connections < 1 || inst->read_connections > 64) {
		cf_log_err_cs(conf, "read_connections must be 1-64, not %u", inst->read_connections);
		return -1;
	}
	workers = worker_threads(conf);
	if (workers > 0 && inst->read_connections > workers) {
		WARN("rlm_lscgate (%s): read_connections = %u is more than thread pool max_servers = %u: using %u",
		     inst->name, inst->read_connections, workers, workers);
		inst->read_connections = workers;
	}
	if (inst->registry_outage_grace > 86400) {
		cf_log_err_cs(conf, "registry_outage_grace must be 0-86400 seconds, not %u", inst->registry_outage_grace);
		return -1;
	}

	memset(&config, 0, sizeof(config));
	config.database = inst->database;
	config.policy = inst->policy;
	config.mic_roots = inst->mic_roots;
	config.capf_certificates = inst->capf_certificates;
	config.last_seen_database = inst->last_seen_database;
	config.vpn_user_name = inst->vpn_user_name;
	config.trust_refresh = inst->trust_refresh;
	config.read_connections = inst->read_connections;
	config.registry_outage_grace = inst->registry_outage_grace;
	config.registry_change_watch = inst->registry_change_watch ? 1 : 0;
	config.log_registry = log_registry;
	config.node_name = inst->node_name;
	err[0] = '\0';
	/* The database may be a conninfo with a password: only ever logged redacted. */
	lscgate_database_display(inst->database, shown, sizeof(shown));
	inst->engine = lscgate_engine_create(&config, err, sizeof(err));
	if (!inst->engine) {
		cf_log_err_cs(conf, "rlm_lscgate (%s): %s", inst->name, err);
		return -1;
	}
	INFO("rlm_lscgate (%s): registry %s opened read-only (%u connections, outage grace %u s, change watch %s), "
	     "policy %s, mic_roots %s, vpn_user_name = %s",
	     inst->name, shown, inst->read_connections, inst->registry_outage_grace,
	     inst->registry_change_watch ? "yes" : "no",
	     *inst->policy ? inst->policy : "(built-in)", *inst->mic_roots ? inst->mic_roots : "(none)",
	     inst->vpn_user_name);
	/* What the policy promises but the 802.1X TLS layer cannot keep: said now, not in production. */
	warnings = lscgate_engine_warning_count(inst->engine);
	for (i = 0; i < warnings; i++) {
		WARN("rlm_lscgate (%s): %s", inst->name, lscgate_engine_warning(inst->engine, i));
	}
	return 0;
}

static int mod_detach(void *instance)
{
	rlm_lscgate_t *inst = instance;

	lscgate_engine_free(inst->engine);
	inst->engine = NULL;
	return 0;
}

static void set_control(REQUEST *request, DICT_ATTR const *da, char const *value)
{
	VALUE_PAIR *vp = fr_pair_afrom_da(request, da);

	if (!vp) return;
	fr_pair_value_strcpy(vp, value);
	fr_pair_replace(&request->config, vp);
}

/*
 *	An IPv4 address (network byte order) as dotted quad, without inet_ntop()'s
 *	sprintf: this runs on every request. buf holds at least 16 bytes.
 */
static char const *ipv4_text(uint32_t be, char *buf)
{
	uint8_t const *b = (uint8_t const *) &be;
	char *p = buf;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = b[i];

		if (v >= 100) *p++ = (char) ('0' + v / 100);
		if (v >= 10) *p++ = (char) ('0' + (v / 10) % 10);
		*p++ = (char) ('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	return buf;
}

/*
 *	NAS address as text: NAS-IP-Address / NAS-IPv6-Address if sent, else where the
 *	packet came from. In check-eap-tls the request is a fake child of the real one.
 */
static char const *nas_address(rlm_lscgate_t const *inst, REQUEST *request, char *buf, size_t len)
{
	VALUE_PAIR *vp = fr_pair_find_by_da(request->packet->vps, inst->da_read[LSCGATE_ATTR_NAS_IP_ADDRESS], TAG_ANY);
	REQUEST *r;

	if (vp && vp->da->type == PW_TYPE_IPV4_ADDR) return ipv4_text(vp->vp_ipaddr, buf);
	if (!vp) vp = fr_pair_find_by_da(request->packet->vps, inst->da_read[LSCGATE_ATTR_NAS_IPV6_ADDRESS], TAG_ANY);
	if (vp) {
		vp_prints_value(buf, len, vp, '\0');
		return buf;
	}
	for (r = request; r; r = r->parent) {
		if (r->packet && r->packet->src_ipaddr.af == AF_INET) {
			return ipv4_text(r->packet->src_ipaddr.ipaddr.ip4addr.s_addr, buf);
		}
		if (r->packet && r->packet->src_ipaddr.af != AF_UNSPEC) {
			return ip_ntoh(&r->packet->src_ipaddr, buf, len);
		}
	}
	return NULL;
}

/*
 *	Cisco-AVPair values for last-seen (the core looks for audit-session-id=...):
 *	borrowed, the first LSCGATE_MAX_AVPAIRS of them.
 */
static void cisco_avpairs(rlm_lscgate_t const *inst, VALUE_PAIR *list, lscgate_facts *facts)
{
	vp_cursor_t cursor;
	VALUE_PAIR *vp;

	if (!inst->da_cisco_avpair || inst->da_cisco_avpair->type != PW_TYPE_STRING) return;
	for (vp = fr_cursor_init(&cursor, &list); vp && facts->cisco_avpair_count < LSCGATE_MAX_AVPAIRS;
	     vp = fr_cursor_next(&cursor)) {
		if (vp->da == inst->da_cisco_avpair) facts->cisco_avpairs[facts->cisco_avpair_count++] = vp->vp_strvalue;
	}
}

/*
 *	Rejecting in post-auth: rlm_eap already answered EAP-Success (code 3), and its
 *	Post-Auth-Type REJECT handling leaves an existing EAP-Message alone, so the
 *	Access-Reject would carry EAP-Success. Make it EAP-Failure (code 4, same id).
 */
static bool reply_has_eap_success(rlm_lscgate_t const *inst, REQUEST *request)
{
	VALUE_PAIR *vp = fr_pair_find_by_da(request->reply->vps, inst->da_eap_message, TAG_ANY);

	return vp && vp->vp_length >= 4 && vp->vp_octets[0] == 3;
}

static void eap_success_to_failure(rlm_lscgate_t const *inst, REQUEST *request)
{
	VALUE_PAIR *vp = fr_pair_find_by_da(request->reply->vps, inst->da_eap_message, TAG_ANY);
	uint8_t pkt[4];

	if (!vp || vp->vp_length != 4 || vp->vp_octets[0] != 3) return;
	memcpy(pkt, vp->vp_octets, sizeof(pkt));
	pkt[0] = 4;
	fr_pair_value_memcpy(vp, pkt, sizeof(pkt));
	RDEBUG2("Replaced EAP-Success by EAP-Failure in the reply");
}

/*
 *	The policy's reply attributes (VLAN, Cisco-AVPair, Filter-Id, ...). Added, not
 *	replaced, so a site's own attributes stay; an attribute the dictionary does not
 *	know is logged and skipped rather than failing the request.
 */
static void add_reply(REQUEST *request, lscgate_result const *result)
{
	unsigned i;

	for (i = 0; i < result->reply_count; i++) {
		if (!fr_pair_make(request->reply, &request->reply->vps, result->reply[i].name, result->reply[i].value, T_OP_ADD)) {
			RWDEBUG("cannot add reply attribute %s = \"%s\": %s", result->reply[i].name, result->reply[i].value,
				fr_strerror());
		}
	}
}

static rlm_rcode_t lscgate_run(rlm_lscgate_t const *inst, REQUEST *request, lscgate_hook hook)
{
	VALUE_PAIR *vps = request->packet->vps;
	lscgate_facts facts;
	lscgate_result result;
	char nas[INET6_ADDRSTRLEN + 8];
	char printed[LSCGATE_ATTR_COUNT][64];	/* non-string values as text */
	int i;

	memset(&facts, 0, sizeof(facts));
	facts.hook = hook;
	facts.eap_message_present = fr_pair_find_by_da(vps, inst->da_eap_message, TAG_ANY) != NULL;
	facts.eap_success_in_reply = hook == LSCGATE_HOOK_POST_AUTH && reply_has_eap_success(inst, request);
	for (i = 0; i < LSCGATE_ATTR_COUNT; i++) {
		facts.values[i] = read_value(vps, inst->da_read[i], printed[i], sizeof(printed[i]));
	}
	facts.nas_address = nas_address(inst, request, nas, sizeof(nas));
	/* A plain accept is logged with RDEBUG only: its line is built only when that prints. */
	facts.log_plain_accepts = RDEBUG_ENABLED ? 1 : 0;
	cisco_avpairs(inst, vps, &facts);

	lscgate_decide(inst->engine, &facts, &result);

	if (result.decision == LSCGATE_NOOP) {
		RDEBUG2("%s", result.log_line);
		return RLM_MODULE_NOOP;
	}
	set_control(request, inst->da_class, result.cls);
	set_control(request, inst->da_reason, result.reason);
	set_control(request, inst->da_verdict, result.verdict);

	switch (result.decision) {
	case LSCGATE_ACCEPT:
	case LSCGATE_RESTRICT:
		add_reply(request, &result);
		/*
		 *	An accept of anything but lsc-valid is a policy exception
		 *	(lsc-unconfirmed, an expiry grace, allow-until): always logged.
		 */
		if (result.decision == LSCGATE_ACCEPT && strcmp(result.cls, "lsc-valid") != 0) {
			RINFO("%s", result.log_line);
		} else {
			RDEBUG("%s", result.log_line);
		}
		return RLM_MODULE_OK;

	case LSCGATE_REJECT:
		/* Every refusal: one line at normal level, with or without debugging. */
		RINFO("%s", result.log_line);
		if (hook == LSCGATE_HOOK_POST_AUTH) eap_success_to_failure(inst, request);
		return RLM_MODULE_REJECT;

	case LSCGATE_ERROR:
	default:
		break;
	}

	RERROR("%s", result.log_line);
	if (hook == LSCGATE_HOOK_POST_AUTH) eap_success_to_failure(inst, request);
	return RLM_MODULE_FAIL;
}

static rlm_rcode_t CC_HINT(nonnull) mod_authorize(void *instance, REQUEST *request)
{
	return lscgate_run(instance, request, LSCGATE_HOOK_AUTHORIZE);
}

static rlm_rcode_t CC_HINT(nonnull) mod_post_auth(void *instance, REQUEST *request)
{
	return lscgate_run(instance, request, LSCGATE_HOOK_POST_AUTH);
}

extern module_t rlm_lscgate;
module_t rlm_lscgate = {
	.magic		= RLM_MODULE_INIT,
	.name		= "lscgate",
	/* HUP_SAFE: a HUP (after a configuration file changed) builds a fresh instance,
	 * which re-reads the policy, mic_roots and the CAPF trust set; the old one is
	 * freed once no request uses it. CAPF rotations are also noticed without a HUP
	 * (trust_refresh). */
	.type		= RLM_TYPE_THREAD_SAFE | RLM_TYPE_HUP_SAFE,
	.inst_size	= sizeof(rlm_lscgate_t),
	.config		= module_config,
	.instantiate	= mod_instantiate,
	.detach		= mod_detach,
	.methods = {
		[MOD_AUTHORIZE]		= mod_authorize,
		[MOD_POST_AUTH]		= mod_post_auth,
	},
};
