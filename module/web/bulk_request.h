#pragma once

// What the bulk page (issue 14) is asked to do, read from its form, and the
// checks of a batch before anything is written: the same file rules as
// `lscgate op install --from` (fleet/device_batch.h: parse_device_input, names
// normalised, duplicates acted on once, every device registered, the whole batch
// refused at a bad line and the line named), the same options as `lscgate op`
// (fleet/operation_request.h) and, applied in waves, as `lscgate rollout create`
// (fleet/rollout_plan.h). Preview (a dry run) and apply run the same checks.

#include "fleet/device_batch.h"
#include "fleet/operation_request.h"
#include "fleet/rollout_plan.h"
#include "web/web_app.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace lscgate::web {

/// Most problems listed at once (bad lines, unknown devices); the count says if there were more.
inline constexpr std::size_t kMaxBulkProblems = 100;

/// The bulk form's fields.
struct BulkForm {
    std::string source;     ///< the file's name as uploaded ("pasted list" for the text field)
    std::string text;       ///< the file's content
    std::string operation;  ///< install | fetch | delete | cancel
    std::string auth;       ///< null | string | lsc | mic | lsc-or-mic | mic-or-lsc
    std::string digits;     ///< with auth string: a fixed string ("" = one generated per device)
    std::string key;
    std::string by;         ///< completes-by: "+7d" or a time; in waves, a duration after each wave
    bool allow_weak_key = false;
    std::string rollout;    ///< with wave_size: the rollout's name
    int wave_size = 0;      ///< 0: every device at once; else waves of this many (a rollout)
    bool replace = false;   ///< in waves: reschedule devices whose operation is still open

    /// The auth words as parse_request_options takes them ("string:DIGITS" with digits).
    std::string auth_words() const;
    /// "install auth=null key=rsa:2048, completes by +7d, in waves of 100 (rollout R)".
    std::string summary() const;
};

/// Reads the form of `request`: the upload "file" when one was chosen, else the
/// text field "text" (the list pasted, or the preview's copy of the file, sent
/// back by its Apply button). Errors (kind Input): no file and no text, a wave
/// size that is not a number from 1 to kMaxWaveSize.
Result<BulkForm> read_bulk_form(const WebRequest& request);

/// A batch checked against the registry at one time.
struct CheckedBatch {
    std::optional<DeviceBatch> batch;   ///< the devices, when nothing is wrong
    std::vector<std::string> problems;  ///< "FILE:LINE: why", at most kMaxBulkProblems; empty when batch is set
    bool more_problems = false;         ///< more than kMaxBulkProblems were found
    /// Option problems (auth, key, completes-by, rollout name): the message of each.
    std::vector<std::string> option_problems;
    std::optional<RequestOptions> options;        ///< install/fetch/delete at once: the parsed options
    std::optional<std::optional<UnixTime>> completes_by;  ///< at once: the deadline (none: no deadline)
    std::optional<RolloutPlan> plan;              ///< in waves: the rollout's plan
    std::vector<std::string> warnings;            ///< to show (a weak key allowed, soft clients with auth null)
    /// Per device of `batch`, what this run would do besides the plain case:
    /// "replaces the open install 12", "cancels install 12", "wave 2", "wave 1:
    /// skipped, had an open install operation 12" (rollout_skip_reason); "" otherwise.
    std::vector<std::string> notes;
    bool ok() const { return batch && problems.empty() && option_problems.empty(); }
};

/// Runs every check of `form` at `now` with the registry of `app`: options,
/// file, names, registration, and (waves) a rollout of that name not existing
/// yet. Errors: only the registry's (kind as it says); refusals are in the result.
Result<CheckedBatch> check_bulk(WebApp& app, const BulkForm& form, UnixTime now);

}  // namespace lscgate::web
