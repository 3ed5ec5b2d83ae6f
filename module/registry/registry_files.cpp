#include "registry/registry_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace lscgate {
namespace {

FileId stat_id(const std::string& path, std::int64_t* size = nullptr) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    if (size != nullptr) *size = static_cast<std::int64_t>(st.st_size);
    return FileId{true, st.st_dev, st.st_ino};
}

std::uint32_t be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::string companion_change(const char* suffix, const FileId& opened, const FileId& now) {
    if (opened == now) return {};
    const std::string file = std::string("its ") + suffix + " file";
    if (opened.present && !now.present) return file + " was deleted";
    if (!opened.present) return file + " appeared";
    return file + " was deleted and made anew";
}

}  // namespace

RegistryFiles RegistryFiles::of(const std::string& db_path) {
    RegistryFiles f;
    f.db = stat_id(db_path, &f.db_size);
    f.wal = stat_id(db_path + "-wal");
    f.shm = stat_id(db_path + "-shm", &f.shm_size);
    return f;
}

FilesVerdict compare_registry_files(const RegistryFiles& opened, const RegistryFiles& largest, const RegistryFiles& now) {
    if (!now.db.present) return {FilesChange::Reopen, "the registry file was deleted or renamed"};
    if (now.db != opened.db) {
        // The old companions still there belong to the old file.
        if ((opened.wal.present && now.wal == opened.wal) || (opened.shm.present && now.shm == opened.shm))
            return {FilesChange::Mispaired,
                    "the registry file was replaced (moved over or deleted and restored) while its -wal/-shm files, "
                    "which belong to the old file, are still there: refusing to read it; restore a backup with "
                    "'sqlite3 lscgate.db \".restore BACKUP\"', or stop lscgate serve and FreeRADIUS first"};
        return {FilesChange::Reopen, "the registry file was replaced (moved over or deleted and restored)"};
    }
    std::string cause = companion_change("-wal", opened.wal, now.wal);
    if (auto shm = companion_change("-shm", opened.shm, now.shm); !shm.empty())
        cause += (cause.empty() ? "" : ", ") + shm;
    if (!cause.empty()) return {FilesChange::Reopen, cause};
    if (now.shm_size < largest.shm_size)
        return {FilesChange::Reopen, "its -shm file shrank from " + std::to_string(largest.shm_size) + " to " +
                                         std::to_string(now.shm_size) + " bytes"};
    if (now.db_size < largest.db_size)
        return {FilesChange::Reopen, "the registry file shrank from " + std::to_string(largest.db_size) + " to " +
                                         std::to_string(now.db_size) + " bytes (truncated?)"};
    return {};
}

Status check_registry_header(const std::string& db_path) {
    const int fd = ::open(db_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(ErrorKind::Unavailable, "cannot open " + db_path + ": " + std::strerror(errno));
    std::array<unsigned char, 100> h{};
    struct stat st {};
    const ssize_t n = ::pread(fd, h.data(), h.size(), 0);
    const int fstat_rc = ::fstat(fd, &st);
    ::close(fd);
    if (n < 0 || fstat_rc != 0) return fail(ErrorKind::Unavailable, "cannot read " + db_path + ": " + std::strerror(errno));
    static constexpr char kMagic[] = "SQLite format 3";  // 16 bytes with its NUL
    if (n < static_cast<ssize_t>(h.size()) || std::memcmp(h.data(), kMagic, sizeof kMagic) != 0)
        return fail(db_path + " is not an SQLite database (empty, truncated to " + std::to_string(n) +
                    " bytes, or overwritten)");
    std::uint32_t page_size = (std::uint32_t{h[16]} << 8) | h[17];
    if (page_size == 1) page_size = 65536;
    const std::uint32_t change_counter = be32(&h[24]);
    const std::uint32_t pages = be32(&h[28]);
    const std::uint32_t valid_for = be32(&h[92]);
    if (pages == 0 || valid_for != change_counter) return {};  // header size not maintained: nothing to compare
    const auto expected = static_cast<std::int64_t>(pages) * page_size;
    // A checkpoint copies page 1 (with the new size) before the pages after it; one
    // cut off by a full disk leaves the file shorter than its header says while the
    // WAL still holds every missing page (nothing is lost: the WAL is not reset
    // until the copy completes). So with a non-empty WAL, a short file is normal;
    // SQLite reads those pages from the WAL, and any page missing from both is a
    // read error (fail closed), never a fault, since nothing is memory-mapped.
    struct stat wal {};
    if (::stat((db_path + "-wal").c_str(), &wal) == 0 && wal.st_size > 0) return {};
    if (static_cast<std::int64_t>(st.st_size) < expected)
        return fail(db_path + " is " + std::to_string(st.st_size) + " bytes but its header says " +
                    std::to_string(pages) + " pages of " + std::to_string(page_size) + " (" + std::to_string(expected) +
                    " bytes): the file was cut short");
    return {};
}

}  // namespace lscgate
