#include "registry/registry_copy.h"

#include "registry/database_kind.h"
#include "registry/database_setting.h"
#include "registry/registry_copy_end.h"

#include <filesystem>

namespace lscgate {
namespace {

// Rows handed to the target per insert call: memory stays bounded (a PEM is ~2 KiB).
constexpr std::size_t kRowsPerBatch = 1000;

Result<std::unique_ptr<CopyEnd>> open_source(const std::string& from) {
    return is_postgresql_database(from) ? open_pg_copy_source(from) : open_sqlite_copy_source(from);
}

Result<std::unique_ptr<CopyEnd>> open_target(const std::string& to) {
    return is_postgresql_database(to) ? open_pg_copy_target(to) : open_sqlite_copy_target(to);
}

Status check_distinct(const std::string& from, const std::string& to) {
    bool same = from == to;
    std::error_code ec;
    if (!same && !is_postgresql_database(from) && !is_postgresql_database(to) && std::filesystem::exists(to, ec))
        same = std::filesystem::equivalent(from, to, ec);
    if (same) return fail(ErrorKind::Config, "--from and --to name the same database");
    return {};
}

// The emptiness rule: a copy only ever fills a registry nobody uses yet.
Status check_empty(CopyEnd& target, const std::string& to) {
    for (const auto& table : copy_tables()) {
        auto n = target.count(table);
        if (!n) return n.error();
        if (*n != 0)
            return fail(ErrorKind::Config, "the target " + database_for_display(to) + " is not empty (" +
                                               std::string(table.name) + ": " + std::to_string(*n) +
                                               " rows): registry copy never merges into a live registry; "
                                               "copy into a new file or an empty database");
    }
    return {};
}

// Streams one table from source to target, fingerprinting what was read.
Status copy_table(CopyEnd& source, CopyEnd& target, const CopyTable& table, CopiedTable& out) {
    TableFingerprint fingerprint;
    std::vector<CopyRow> batch;
    auto s = source.each_row(table, [&](const CopyRow& row) -> Status {
        if (auto f = fingerprint.add(row); !f) return f;
        batch.push_back(row);
        if (batch.size() < kRowsPerBatch) return {};
        auto written = target.insert(table, batch);
        batch.clear();
        return written;
    });
    if (!s) return s;
    if (!batch.empty()) {
        if (auto w = target.insert(table, batch); !w) return w;
    }
    if (auto f = target.finish_table(table); !f) return f;
    out.name = std::string(table.name);
    out.source_rows = fingerprint.rows();
    auto hex = fingerprint.finish();
    if (!hex) return hex.error();
    out.source_sha256 = *hex;
    return {};
}

// Reads the table back from the target (inside its transaction) through the same canonical form.
Status verify_table(CopyEnd& target, const CopyTable& table, CopiedTable& out) {
    TableFingerprint fingerprint;
    if (auto s = target.each_row(table, [&](const CopyRow& row) { return fingerprint.add(row); }); !s) return s;
    auto count = target.count(table);
    if (!count) return count.error();
    // A row the ordered read did not see (it cannot happen; the check costs one query).
    out.target_rows = *count == fingerprint.rows() ? fingerprint.rows() : -1;
    auto hex = fingerprint.finish();
    if (!hex) return hex.error();
    out.target_sha256 = *hex;
    return {};
}

Result<CopyReport> run_copy(const std::string& from, const std::string& to) {
    if (auto s = check_distinct(from, to); !s) return s.error();
    if (auto s = validate_database_setting(from, "--from"); !s) return s.error();
    if (auto s = validate_database_setting(to, "--to"); !s) return s.error();
    auto source = open_source(from);
    if (!source) return fail(source.kind(), "source " + database_for_display(from) + ": " + source.message());
    auto target = open_target(to);
    if (!target) return fail(target.kind(), "target " + database_for_display(to) + ": " + target.message());
    if (auto s = check_empty(**target, to); !s) return s.error();

    CopyReport report;
    for (const auto& table : copy_tables()) {
        CopiedTable copied;
        if (auto s = copy_table(**source, **target, table, copied); !s)
            return fail(s.kind(), "copying " + std::string(table.name) + " (nothing was committed): " + s.message());
        report.tables.push_back(std::move(copied));
    }
    bool all_match = true;
    for (std::size_t i = 0; i < report.tables.size(); ++i) {
        if (auto s = verify_table(**target, copy_tables()[i], report.tables[i]); !s)
            return fail(s.kind(), "verifying " + report.tables[i].name + " (nothing was committed): " + s.message());
        all_match = all_match && report.tables[i].matches();
    }
    if (!all_match) return report;  // the target's transaction rolls back as it goes out of scope
    if (auto s = (*target)->commit(); !s) return fail(s.kind(), "commit on the target: " + s.message());
    report.committed = true;
    return report;
}

}  // namespace

Result<CopyReport> copy_registry(const std::string& from, const std::string& to) {
    auto report = run_copy(from, to);
    if (!report) return without_database_secrets(without_database_secrets(report.error(), from), to);
    return report;
}

}  // namespace lscgate
