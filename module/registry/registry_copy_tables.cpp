#include "registry/registry_copy_tables.h"


#include <openssl/evp.h>

#include <charconv>

namespace lscgate {

const std::array<CopyTable, kCopyTableCount>& copy_tables() {
    using K = CopyColumnKind;
    static const std::array<CopyTable, kCopyTableCount> tables = {{
        {"devices",
         {{"id", K::Int}, {"name", K::Text}, {"model", K::Text}, {"description", K::Text},
          {"security_profile", K::Text}, {"auth_failures", K::Int}, {"locked_until", K::Time},
          {"created_at", K::Time}, {"updated_at", K::Time}}},
        {"operations",
         {{"id", K::Int}, {"device_id", K::Int}, {"kind", K::Text}, {"auth_mode", K::Text},
          {"auth_secret", K::Text}, {"key_type", K::Text}, {"rsa_bits", K::Int}, {"ec_curve", K::Text},
          {"completes_by", K::Time}, {"state", K::Text}, {"last_error", K::Text}, {"created_at", K::Time},
          {"updated_at", K::Time}, {"finished_at", K::Time}}},
        {"certificates",
         {{"id", K::Int}, {"device_name", K::Text}, {"kind", K::Text}, {"serial", K::Text},
          {"fingerprint", K::Text}, {"subject", K::Text}, {"issuer", K::Text}, {"issuer_oneline", K::Text},
          {"not_before", K::Time}, {"not_after", K::Time}, {"key_type", K::Text}, {"key_bits", K::Int},
          {"pem", K::Text}, {"status", K::Text}, {"operation_id", K::Int}, {"revoked_at", K::Time},
          {"revocation_reason", K::Text}, {"created_at", K::Time}}},
        {"capf_certificates",
         {{"id", K::Int}, {"fingerprint", K::Text}, {"subject", K::Text}, {"issuer", K::Text},
          {"serial", K::Text}, {"not_before", K::Time}, {"not_after", K::Time}, {"pem", K::Text},
          {"status", K::Text}, {"created_at", K::Time}}},
        {"audit",
         {{"id", K::Int}, {"at", K::Time}, {"actor", K::Text}, {"action", K::Text}, {"device", K::Text},
          {"detail", K::Text}, {"prev_hash", K::Text}, {"hash", K::Text}}},
        // Schema version 4 (issue 10): CAPF sessions and rollouts.
        {"capf_sessions",
         {{"id", K::Int}, {"at", K::Time}, {"device", K::Text}, {"operation_id", K::Int}, {"operation", K::Text},
          {"auth_mode", K::Text}, {"result", K::Text}, {"cause_class", K::Text}, {"cause", K::Text},
          {"peer", K::Text}, {"serial", K::Text}, {"duration_ms", K::Int}}},
        {"rollouts",
         {{"id", K::Int}, {"name", K::Text}, {"kind", K::Text}, {"auth_mode", K::Text}, {"auth_secret", K::Text},
          {"generate_strings", K::Bool}, {"key_type", K::Text}, {"rsa_bits", K::Int}, {"ec_curve", K::Text},
          {"by_seconds", K::Int}, {"wave_size", K::Int}, {"waves", K::Int}, {"next_wave", K::Int},
          {"created_at", K::Time}, {"created_by", K::Text}}},
        {"rollout_waves",
         {{"rollout_id", K::Int}, {"wave", K::Int}, {"scheduled_at", K::Time}, {"completes_by", K::Time}},
         "rollout_id, wave",
         false},
        // position is unique within a rollout (create_rollout); device breaks a
        // tie only in a registry edited by hand (and then engines may disagree:
        // the copy is rolled back, never wrong).
        {"rollout_devices",
         {{"rollout_id", K::Int}, {"position", K::Int}, {"wave", K::Int}, {"device", K::Text},
          {"operation_id", K::Int}, {"skipped", K::Text}},
         "rollout_id, position, device",
         false},
    }};
    return tables;
}

TableFingerprint::TableFingerprint() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) ctx_.reset();
}

Status TableFingerprint::add(const CopyRow& row) {
    if (!ctx_) return fail("SHA-256 is not available");
    std::string text;
    for (const auto& value : row) {
        if (!value) {
            text += "N;";
            continue;
        }
        text += "S" + std::to_string(value->size()) + ":";
        text += *value;
        text += ";";
    }
    text += "\n";
    if (EVP_DigestUpdate(ctx_.get(), text.data(), text.size()) != 1) return fail("SHA-256 update failed");
    ++rows_;
    return {};
}

Result<std::string> TableFingerprint::finish() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!ctx_ || EVP_DigestFinal_ex(ctx_.get(), digest, &size) != 1) return fail("SHA-256 final failed");
    ctx_.reset();
    std::string hex;
    static constexpr char kDigits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < size; ++i) {
        hex += kDigits[digest[i] >> 4];
        hex += kDigits[digest[i] & 0x0f];
    }
    return hex;
}

std::string column_label(const CopyTable& table, std::size_t column) {
    return std::string(table.name) + "." + std::string(table.columns.at(column).name);
}

Result<std::int64_t> copy_integer(const CopyTable& table, std::size_t column, const std::string& text) {
    std::int64_t v = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || ptr != end)
        return fail(ErrorKind::Input, column_label(table, column) + " holds \"" + text.substr(0, 40) + "\", not an integer");
    return v;
}

}  // namespace lscgate
