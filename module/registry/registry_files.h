#pragma once

// Which files a registry path names right now, so a long-lived reader can tell
// that what it has open is no longer the registry: lscgate.db moved over or
// deleted and restored (the reader would keep reading the old, unlinked inode),
// its -wal/-shm companions deleted (the reader would keep a WAL index that no
// writer updates any more), or the file cut short (truncate). SQLite cannot see
// any of these: its connection holds file descriptors, not paths, and one
// process shares one WAL index per database inode (sqlite3 src/os_unix.c,
// unixInodeInfo / unixShmNode).

#include "pki/result.h"
#include "registry/sqlite_handles.h"

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace lscgate {

struct FileId {
    bool present = false;
    dev_t dev = 0;
    ino_t ino = 0;
    // Birth time (statx STATX_BTIME, nanoseconds since the epoch; 0 where the file
    // system does not record it).
    std::int64_t born_ns = 0;
    // The file's handle (name_to_handle_at, as NFS names files; on ext4 the inode
    // number and its generation), hashed; 0: not read, or not supported here. A
    // file deleted and made anew once nothing holds the old one often gets the
    // same inode number back at once (ext4 reuses it), within the same coarse
    // clock tick as well: only the generation, which the file system changes on
    // every reuse, tells the new -wal/-shm from the old file's. Read without
    // opening the file: closing any descriptor of a file drops every POSIX lock
    // this process holds on it, SQLite's included.
    std::uint64_t handle = 0;
    /// Same file: device, inode and birth time equal, and the handles too when
    /// both sides read one.
    bool operator==(const FileId& o) const {
        return present == o.present && dev == o.dev && ino == o.ino && born_ns == o.born_ns &&
               (handle == 0 || o.handle == 0 || handle == o.handle);
    }
};

struct RegistryFiles {
    FileId db, wal, shm;          // path, path-wal, path-shm (SQLite's WAL naming)
    std::int64_t db_size = 0;     // bytes, from the same stat() as `db`
    std::int64_t shm_size = 0;    // bytes of -shm: SQLite maps it, so it must never shrink under a reader
    bool operator==(const RegistryFiles&) const = default;

    // Three statx() calls (no open, no read): cheap enough for every request.
    // with_handle also reads each file's handle (FileId): for a reader that holds
    // none of the files open (a file it holds cannot be freed, so its inode
    // number cannot come back as another file). Nothing is opened either way.
    static RegistryFiles of(const std::string& db_path, bool with_handle = false);
};

enum class FilesChange {
    Same,       // nothing a reader must act on
    Reopen,     // the path names other files, or the file shrank: reopen to see them
    Mispaired,  // lscgate.db is a new file but -wal/-shm are the old file's: unreadable safely
};

struct FilesVerdict {
    FilesChange change = FilesChange::Same;
    std::string cause;  // for the log: what changed, in the admin's terms
};

// Compares what a reader opened with what the path names now. A database file
// only ever grows under SQLite here (no VACUUM, no auto_vacuum), so a smaller
// file than the largest size seen means someone cut it short.
// The -shm file (the WAL index) is memory-mapped by SQLite itself, always: one
// that shrank under a reader would fault at its next read, so it is reopened
// (SQLite rebuilds the index) before it is touched.
// New database + old companions is Mispaired: SQLite would apply the old file's
// WAL frames to the new file ("mispairing database files and hot journals",
// https://sqlite.org/howtocorrupt.html section 1.4), so nothing it says can be trusted.
// `largest` holds the largest db_size and shm_size seen since opening.
FilesVerdict compare_registry_files(const RegistryFiles& opened, const RegistryFiles& largest, const RegistryFiles& now);

// Reads the 100-byte SQLite header (https://sqlite.org/fileformat2.html section 1.3)
// and refuses a file that is not SQLite or is shorter than the page count its
// header states (when that count is valid: offset 92 equals the change counter
// at offset 24). A cut-short file otherwise looks fine until a query touches a
// missing page. Read through `db`'s own descriptor (SQLite's VFS), never a new
// one: closing a second descriptor of the file would drop the POSIX locks every
// SQLite connection of this process holds on it (sqlite3 src/os_unix.c, "POSIX
// advisory locks are broken"), letting another process delete the WAL under it.
// Errors (kind Unavailable for a short read): not SQLite, cut short.
Status check_registry_header(SqliteDatabase& db, const std::string& db_path);

}  // namespace lscgate
