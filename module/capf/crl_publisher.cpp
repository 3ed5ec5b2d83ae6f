#include "capf/crl_publisher.h"

#include "pki/secure_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

namespace lscgate::capf {

namespace {

// An exclusive flock(2) on FILE.lock for the life of the object.
class FileLock {
public:
    static Result<FileLock> take(const std::filesystem::path& file) {
        const auto path = file.string() + ".lock";
        // Read-only is enough for flock(2), so a lock file root created first
        // (sudo lscgate revoke) never locks the service user out; never through
        // a symlink; owned like the directory.
        const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) return fail(ErrorKind::Unavailable, "cannot open " + path + ": " + std::strerror(errno));
        if (auto s = give_to_directory_owner(fd, path); !s) {
            ::close(fd);
            return fail(ErrorKind::Unavailable, s.message());
        }
        if (::flock(fd, LOCK_EX) != 0) {
            ::close(fd);
            return fail(ErrorKind::Unavailable, "cannot lock " + path);
        }
        return FileLock(fd);
    }
    FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileLock& operator=(FileLock&&) = delete;
    ~FileLock() {
        if (fd_ >= 0) ::close(fd_);  // closing releases the lock
    }

private:
    explicit FileLock(int fd) : fd_(fd) {}
    int fd_;
};

// The CRL on disk, when it is one this CAPF signed; its number either way.
struct OnDisk {
    std::optional<CrlFacts> facts;  // nullopt: missing, unreadable or another signer
    std::int64_t number = 0;
    std::string der;
};

OnDisk read_current(const std::filesystem::path& file, const X509* capf) {
    OnDisk out;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return out;
    auto bytes = read_text_file(file);
    if (!bytes) return out;
    auto crl = parse_crl(*bytes);
    if (!crl) return out;
    auto facts = describe_crl(crl->get());
    if (!facts) return out;
    out.number = facts->number;
    if (!crl_signed_by(crl->get(), capf)) return out;
    out.facts = std::move(*facts);
    out.der = std::move(*bytes);
    return out;
}

}  // namespace

CrlSettings crl_settings(const Config& config) {
    return CrlSettings{config.resolve(config.crl_file), config.crl_validity_s, config.crl_include_superseded};
}

Result<std::vector<CrlEntry>> crl_entries(Store& store, const X509* capf, bool include_superseded, UnixTime now) {
    auto capf_facts = describe_certificate(capf);
    if (!capf_facts) return capf_facts.error();
    // This CAPF's LSCs, only what the CRL needs (no PEM: a fleet of 100 000
    // would otherwise hold ~300 MB for a moment at every check).
    struct Lsc {
        std::int64_t id;
        std::string device_name;
        CertificateStatus status;
        std::string serial_hex;
        UnixTime not_after;
        std::optional<UnixTime> revoked_at;
        std::string revocation_reason;
        UnixTime created_at;
    };
    std::vector<Lsc> lscs;
    auto walked = store.each_certificate(std::nullopt, [&](const CertificateRecord& c) -> Status {
        if (c.kind == CertificateKind::Lsc && c.facts.issuer == capf_facts->subject)
            lscs.push_back({c.id, c.device_name, c.status, c.facts.serial_hex, c.facts.not_after, c.revoked_at,
                            c.revocation_reason, c.created_at});
        return {};
    });
    if (!walked) return walked.error();
    std::sort(lscs.begin(), lscs.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    // A superseded LSC stopped counting when the device's next LSC was recorded.
    std::map<std::string, UnixTime> next_recorded;
    std::vector<CrlEntry> entries;
    for (auto it = lscs.rbegin(); it != lscs.rend(); ++it) {
        const Lsc& c = *it;
        const auto later = next_recorded.find(c.device_name);
        if (c.not_after >= now) {
            if (c.status == CertificateStatus::Revoked)
                entries.push_back({c.serial_hex, c.revoked_at.value_or(c.created_at),
                                   crl_reason_from_name(c.revocation_reason)});
            else if (c.status == CertificateStatus::Superseded && include_superseded)
                entries.push_back({c.serial_hex, later != next_recorded.end() ? later->second : c.created_at,
                                   CrlReason::Superseded});
        }
        next_recorded[c.device_name] = c.created_at;
    }
    // The CRL's own order (X509_CRL_sort: by serial as a number), so a list read
    // back from a CRL compares equal.
    std::sort(entries.begin(), entries.end(), [](const CrlEntry& a, const CrlEntry& b) {
        if (a.serial_hex.size() != b.serial_hex.size()) return a.serial_hex.size() < b.serial_hex.size();
        return a.serial_hex < b.serial_hex;
    });
    return entries;
}

bool crl_due(const std::optional<CrlFacts>& current, const std::vector<CrlEntry>& entries, UnixTime now) {
    if (!current) return true;
    if (current->entries != entries) return true;
    const UnixTime half = current->this_update + (current->next_update - current->this_update) / 2;
    return now >= half;
}

Result<CrlOutcome> refresh_crl(Store& store, const CapfAuthority& capf, const CrlSettings& settings, UnixTime now,
                               bool force) {
    // The lock first, then the registry: a list read before another process's
    // renewal (with a revocation it committed meanwhile) must never be
    // published after it.
    auto lock = FileLock::take(settings.file);
    if (!lock) return lock.error();
    auto entries = crl_entries(store, capf.certificate(), settings.include_superseded, now);
    if (!entries) return entries.error();
    OnDisk current = read_current(settings.file, capf.certificate());
    if (!force && !crl_due(current.facts, *entries, now))
        return CrlOutcome{false, std::move(*current.facts), std::move(current.der)};
    CrlRequest request{current.number + 1, now, now + settings.validity_s, std::move(*entries)};
    auto crl = build_crl(capf.certificate(), capf.key(), request);
    if (!crl) return crl.error();
    auto der = crl_der(crl->get());
    if (!der) return der.error();
    if (auto s = write_file_atomically(settings.file, *der, FileMode::Public); !s)
        return fail(s.kind(), settings.file.string() + ": " + s.message());
    auto facts = describe_crl(crl->get());
    if (!facts) return facts.error();
    return CrlOutcome{true, std::move(*facts), std::move(*der)};
}

}  // namespace lscgate::capf
