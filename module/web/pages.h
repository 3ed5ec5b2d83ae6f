#pragma once

// The pages and actions of `lscgate web` (issue 14), called by WebApp after it
// checked the session, the CSRF token (POST) and the role (POST: admin). Each
// returns a PageBody the app wraps in the layout, or an error the app shows
// with its kind's status. Sign-in is separate: it runs without a session.

#include "web/web_app.h"

#include <initializer_list>
#include <string>
#include <string_view>

namespace lscgate::web {

// ---- sign-in (page_login.cpp) ----
/// GET /login: the form with its double-submit CSRF token: the one the
/// browser's login cookie already holds (a second tab, a favicon redirected here
/// must not invalidate the form on screen), else a fresh one set as the cookie.
WebResponse login_form(WebApp& app, const WebRequest& request, int status, const std::string& message);
/// POST /login: throttle, CSRF, lockout, Argon2id; a new session on success (303 to /).
WebResponse login_submit(WebApp& app, const WebRequest& request, UnixTime now);
/// POST /logout: ends the session `session_id` (audited web.logout), 303 to /login.
WebResponse logout(WebApp& app, const PageContext& ctx, std::string_view session_id);

// ---- pages (GET) ----
/// /: devices by LSC status, LSCs expiring within 30 days, the CAPF certificates' days left.
Result<PageBody> dashboard_page(WebApp& app, const PageContext& ctx);
/// /devices?q=&model=&lsc=&after=&before=: one keyset page of the device list.
Result<PageBody> devices_page(WebApp& app, const PageContext& ctx);
/// /device?name=: a device, its operations, certificates, panels and (admin) actions.
Result<PageBody> device_page(WebApp& app, const PageContext& ctx);
/// /audit?limit=: the newest audit rows and the hash chain's state (Store::verify_audit).
Result<PageBody> audit_page(WebApp& app, const PageContext& ctx);
/// /bulk: the upload form (a BAT custom file or phone export, or pasted names) and its options.
Result<PageBody> bulk_page(WebApp& app, const PageContext& ctx);
/// /reports?report=lsc|stale|foreign&name=&model=&lsc=&seen=: a fleet report
/// (as `lscgate report`), its first rows shown, filters as `--where`.
Result<PageBody> reports_page(WebApp& app, const PageContext& ctx);
/// /reports.csv with the same parameters: the whole report as `lscgate report … --csv` writes it.
Result<WebResponse> reports_csv(WebApp& app, const PageContext& ctx);

// ---- actions (POST, admin) ----
/// /device/schedule: install / fetch / delete with auth mode, key and completes-by;
/// a generated authentication string is shown in the answer, once.
Result<PageBody> schedule_action(WebApp& app, const PageContext& ctx);
/// /device/cancel: cancels the device's open operation.
Result<PageBody> cancel_action(WebApp& app, const PageContext& ctx);
/// /device/revoke: revokes the device's active LSC with a reason, then WebHooks::after_revoke.
Result<PageBody> revoke_action(WebApp& app, const PageContext& ctx);
/// /bulk/preview (any account: it changes nothing): a dry run of the upload,
/// every device with its line, or every bad line when the batch is refused.
Result<PageBody> bulk_preview_action(WebApp& app, const PageContext& ctx);
/// /bulk/apply: the same checks again, then schedules (at once or the first
/// wave of a new rollout) or cancels; generated strings shown once.
Result<PageBody> bulk_apply_action(WebApp& app, const PageContext& ctx);
/// /rollout/next: schedules the next wave of rollout `name` (as `lscgate rollout next`).
Result<PageBody> rollout_next_action(WebApp& app, const PageContext& ctx);

// ---- helpers shared by the pages (page_common.cpp) ----
/// "2026-11-28 18:42 UTC" ("" for 0).
std::string display_time(UnixTime t);
/// `text` percent-encoded for a query string value (RFC 3986 unreserved kept).
std::string url_encode(std::string_view text);
/// Options of a <select>: each of `values`, `chosen` selected.
TemplateList choices(std::initializer_list<const char*> values, std::string_view chosen);
/// The auth modes a schedule form offers (null, string, lsc, mic, lsc-or-mic, mic-or-lsc).
TemplateList auth_mode_choices(std::string_view chosen);
/// The keys a schedule form offers (rsa:2048 … ec:p521, rsa:1024 last).
TemplateList key_choices(std::string_view chosen);
/// The device page's history (page_device_history.cpp): its newest CAPF sessions
/// ("sessions": at, operation, auth, result, class, cause, peer, serial, seconds)
/// and its last RADIUS sightings per node ("sightings", or "sightings_reason"
/// when last-seen cannot be read). Errors: the registry's.
Status add_device_history(WebApp& app, const std::string& device, TemplateData& data);
/// A page showing `lines` (and a link back to `back_href`), for action results.
PageBody result_page(const std::string& title, const std::vector<std::string>& lines, const std::string& back_href,
                     const std::string& back_label);

}  // namespace lscgate::web
