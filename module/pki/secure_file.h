#pragma once

#include "pki/result.h"

#include <filesystem>
#include <string>

namespace lscgate {

enum class FileMode { Public = 0644, Secret = 0600 };

// Writes through a temporary file and rename, so a crash never leaves a half
// written key or certificate; secrets are created 0600 from the first byte.
enum class Durability { Synced, Unsynced };
Status write_file_atomically(const std::filesystem::path& path, const std::string& content, FileMode mode,
                             Durability durability = Durability::Synced);

/// Refuses a secret (private key) file that group or others may access (any of
/// the mode bits 077), as ssh(1) does for identity files: a world-readable CAPF
/// key lets any local user issue LSCs. The error names the mode and the fix
/// ("chmod 600 FILE"); kind Config. A missing file is left to the reader.
Status check_secret_file_mode(const std::filesystem::path& path);

/// A file root creates in a directory another user owns is handed to that
/// directory's owner and group, through `fd` (the file's open descriptor):
/// `sudo lscgate init` in the packaged /var/lib/lscgate (owned by the service's
/// user `lscgate`) must leave a capf.key the service can read. Nothing happens
/// for any other user, or for a directory root owns. Errors: stat/fchown failed.
Status give_to_directory_owner(int fd, const std::filesystem::path& file);

/// The mode and owner of a new shared file: like give_to_directory_owner, and
/// when the directory is setgid and its group may read it (the packaged
/// /var/lib/lscgate, lscgate:lscgate 2750, whose group holds FreeRADIUS's user)
/// mode 0640: the group reads, never writes. Else the mode is left as created. For the SQLite
/// registry: SQLite gives the -wal/-shm it creates the database file's mode and
/// (as root) owner, and the writers keep them (persistent WAL, configure_wal) so
/// that a reader that may not write the directory never has to create them.
Status share_new_file_with_directory_group(const std::filesystem::path& file);

Result<std::string> read_text_file(const std::filesystem::path& path, std::size_t max_bytes = 4 * 1024 * 1024);

}  // namespace lscgate
