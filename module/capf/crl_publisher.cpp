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

// A CRL on disk, when it is one its CAPF signed; its number either way.
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

// "2 revocations cannot be published (0A1B SEP…, …)": at most 10 named.
std::string unpublished_line(const CrlIssuer& issuer, const std::vector<ListedLsc>& listed) {
    std::string line = issuer.label() + ": ";
    if (listed.empty()) {
        line += "no CRL (nothing of it is revoked now)";
    } else {
        line += std::to_string(listed.size()) + " revocation" + (listed.size() == 1 ? "" : "s") +
                " cannot be published (";
        for (std::size_t i = 0; i < listed.size() && i < 10; ++i)
            line += (i ? ", " : "") + listed[i].entry.serial_hex + " " + listed[i].device;
        if (listed.size() > 10) line += ", and " + std::to_string(listed.size() - 10) + " more";
        line += ")";
    }
    line += ": " + issuer.problem;
    if (issuer.key == nullptr && !issuer.newer)
        line += ". Keep its key as " + capf_name_stem(issuer.facts) +
                ".key (0600) beside [capf] key to publish its CRL, or re-key its phones and retire it "
                "(lscgate capf retire " + issuer.facts.sha256.substr(0, 16) + ")";
    return line;
}

// One line per cause for the revocations no CRL lists (crl_scope.h
// crl_listings): "2 revocations are in no CRL (0A1B SEP…, …): issued by no CAPF
// that is current or previous …", at most 10 named per line.
std::vector<std::string> unlisted_lines(const std::vector<UnlistedLsc>& unlisted) {
    std::map<std::string, std::vector<const ListedLsc*>> by_cause;
    for (const auto& u : unlisted) by_cause[u.why].push_back(&u.lsc);
    std::vector<std::string> lines;
    for (const auto& [why, lscs] : by_cause) {
        std::string line = std::to_string(lscs.size()) + " revocation" + (lscs.size() == 1 ? " is" : "s are") +
                           " in no CRL (";
        for (std::size_t i = 0; i < lscs.size() && i < 10; ++i)
            line += (i ? ", " : "") + lscs[i]->entry.serial_hex + " " + lscs[i]->device;
        if (lscs.size() > 10) line += ", and " + std::to_string(lscs.size() - 10) + " more";
        line += "): " + why;
        line += why.find("no CAPF") != std::string::npos
                    ? " (a retired or unknown CAPF signs no CRL): a head-end that still trusts their issuer accepts "
                      "them; remove that CAPF from its trustpoints"
                    : ": check the registry ('lscgate cert list')";
        lines.push_back(std::move(line));
    }
    return lines;
}

// Renews `issuer`'s CRL when due; `number` is the directory's highest so far.
Result<PublishedCrl> publish(CrlIssuer& issuer, std::vector<ListedLsc> listed, const OnDisk& on_disk,
                             std::int64_t& number, const CrlSettings& settings, UnixTime now, bool force) {
    PublishedCrl out{std::move(issuer.cert), issuer.label(), issuer.current, issuer.file,
                     capf_name_stem(issuer.facts) + ".crl", false, {}, {}};
    std::vector<CrlEntry> entries;
    for (auto& l : listed) entries.push_back(std::move(l.entry));
    if (!force && !crl_due(on_disk.facts, entries, now)) {
        out.facts = *on_disk.facts;
        out.der = on_disk.der;
        return out;
    }
    CrlRequest request{++number, now, now + settings.validity_s, std::move(entries)};
    auto crl = build_crl(out.capf.get(), issuer.key.get(), request);
    if (!crl) return crl.error();
    auto der = crl_der(crl->get());
    if (!der) return der.error();
    if (auto s = write_file_atomically(issuer.file, *der, FileMode::Public); !s)
        return fail(s.kind(), issuer.file.string() + ": " + s.message());
    auto facts = describe_crl(crl->get());
    if (!facts) return facts.error();
    out.renewed = true;
    out.facts = std::move(*facts);
    out.der = std::move(*der);
    return out;
}

}  // namespace

CrlSettings crl_settings(const Config& config) {
    return CrlSettings{config.resolve(config.crl_file), config.crl_validity_s, config.crl_include_superseded,
                       config.resolve(config.capf_key).parent_path()};
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
    auto issuers = crl_issuers(store, capf, settings);
    if (!issuers) return issuers.error();
    std::vector<const X509*> certs;
    for (const auto& i : *issuers) certs.push_back(i.cert.get());
    std::vector<UnlistedLsc> unlisted;
    auto listings = crl_listings(store, certs, settings.include_superseded, now, &unlisted);
    if (!listings) return listings.error();
    std::vector<OnDisk> on_disk;
    std::int64_t number = 0;
    for (const auto& i : *issuers) {
        on_disk.push_back(read_current(i.file, i.cert.get()));
        number = std::max(number, on_disk.back().number);
    }
    CrlOutcome out;
    std::string current_problem;
    for (std::size_t i = 0; i < issuers->size(); ++i) {
        CrlIssuer& issuer = (*issuers)[i];
        if (!issuer.problem.empty() && issuer.current) {
            const auto n = (*listings)[i].size();
            current_problem = "the " + issuer.label() + " cannot sign a CRL: " + issuer.problem +
                              (n == 0 ? "" : " (" + std::to_string(n) + " of its revocations are not published)");
            continue;
        }
        if (!issuer.problem.empty()) {
            out.unpublished.push_back(unpublished_line(issuer, (*listings)[i]));
            continue;
        }
        auto published = publish(issuer, std::move((*listings)[i]), on_disk[i], number, settings, now, force);
        if (!published) return published.error();
        out.crls.push_back(std::move(*published));
    }
    for (auto& line : unlisted_lines(unlisted)) out.unpublished.push_back(std::move(line));
    if (!current_problem.empty()) return fail(ErrorKind::Config, current_problem);
    out.renewed = out.crls.front().renewed;
    out.facts = out.crls.front().facts;
    out.der = out.crls.front().der;
    return out;
}

}  // namespace lscgate::capf
