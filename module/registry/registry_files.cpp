#include "registry/registry_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace lscgate {
namespace {

// The hashed handle of `path` (0: unknown), FNV-1a over the handle type and
// bytes. name_to_handle_at does not open the file; AT_SYMLINK_FOLLOW makes it
// name the file statx (and SQLite) reach through a symlinked path.
std::uint64_t handle_of(const std::string& path) {
    // struct file_handle ends in a flexible array: room for the largest handle after it.
    alignas(file_handle) unsigned char storage[sizeof(file_handle) + MAX_HANDLE_SZ] = {};
    auto* h = reinterpret_cast<file_handle*>(storage);
    h->handle_bytes = MAX_HANDLE_SZ;
    int mount_id = 0;
    if (::name_to_handle_at(AT_FDCWD, path.c_str(), h, &mount_id, AT_SYMLINK_FOLLOW) != 0) return 0;
    std::uint64_t hash = 14695981039346656037ULL;
    auto mix = [&hash](unsigned char b) { hash = (hash ^ b) * 1099511628211ULL; };
    for (int i = 0; i < 4; ++i) mix(static_cast<unsigned char>(static_cast<unsigned>(h->handle_type) >> (8 * i)));
    const unsigned char* bytes = storage + sizeof(file_handle);
    for (unsigned i = 0; i < h->handle_bytes && i < MAX_HANDLE_SZ; ++i) mix(bytes[i]);
    return hash == 0 ? 1 : hash;
}

FileId stat_id(const std::string& path, std::int64_t* size = nullptr) {
    struct statx st {};
    if (::statx(AT_FDCWD, path.c_str(), 0, STATX_INO | STATX_SIZE | STATX_BTIME, &st) != 0) return {};
    if (size != nullptr) *size = static_cast<std::int64_t>(st.stx_size);
    FileId id{true, ::makedev(st.stx_dev_major, st.stx_dev_minor), st.stx_ino, 0};
    if ((st.stx_mask & STATX_BTIME) != 0)
        id.born_ns = static_cast<std::int64_t>(st.stx_btime.tv_sec) * 1'000'000'000 + st.stx_btime.tv_nsec;
    return id;
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

RegistryFiles RegistryFiles::of(const std::string& db_path, bool with_handle) {
    RegistryFiles f;
    f.db = stat_id(db_path, &f.db_size);
    f.wal = stat_id(db_path + "-wal");
    f.shm = stat_id(db_path + "-shm", &f.shm_size);
    if (with_handle) {
        // A file swapped in between the statx and this call pairs the old inode
        // number with the new file's handle, which matches neither file and reads
        // as a change (reopen), never as the same file.
        if (f.db.present) f.db.handle = handle_of(db_path);
        if (f.wal.present) f.wal.handle = handle_of(db_path + "-wal");
        if (f.shm.present) f.shm.handle = handle_of(db_path + "-shm");
    }
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

Status check_registry_header(SqliteDatabase& db, const std::string& db_path) {
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(db.raw(), "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || file == nullptr ||
        file->pMethods == nullptr)
        return fail(ErrorKind::Unavailable, "cannot read " + db_path + ": no open file");
    sqlite3_int64 size = 0;
    if (file->pMethods->xFileSize(file, &size) != SQLITE_OK)
        return fail(ErrorKind::Unavailable, "cannot read the size of " + db_path);
    std::array<unsigned char, 100> h{};
    // A short read is SQLITE_IOERR_SHORT_READ with the rest zeroed: the size says how much was there.
    const int rc = file->pMethods->xRead(file, h.data(), static_cast<int>(h.size()), 0);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
        return fail(ErrorKind::Unavailable, "cannot read " + db_path + ": " + sqlite3_errstr(rc));
    const auto n = std::min<sqlite3_int64>(size, static_cast<sqlite3_int64>(h.size()));
    static constexpr char kMagic[] = "SQLite format 3";  // 16 bytes with its NUL
    if (n < static_cast<sqlite3_int64>(h.size()) || std::memcmp(h.data(), kMagic, sizeof kMagic) != 0)
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
    if (static_cast<std::int64_t>(size) < expected)
        return fail(db_path + " is " + std::to_string(size) + " bytes but its header says " +
                    std::to_string(pages) + " pages of " + std::to_string(page_size) + " (" + std::to_string(expected) +
                    " bytes): the file was cut short");
    return {};
}

}  // namespace lscgate
