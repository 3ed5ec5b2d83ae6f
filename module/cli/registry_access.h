#pragma once

// What FreeRADIUS's run-time user may do with an SQLite registry, as the kernel
// decides it (owner/group/other bits, supplementary groups, POSIX ACLs): for
// `lscgate doctor --raddb`, which must fail both when FreeRADIUS cannot read the
// registry and when it could change it.

#include "pki/result.h"

#include <string>

namespace lscgate {

/// Access of one user to lscgate.db, its -wal/-shm and their directory.
struct RegistryAccess {
    bool wal_present = false, shm_present = false;
    bool read_db = false, read_wal = false, read_shm = false, search_dir = false;
    bool write_db = false, write_wal = false, write_shm = false, write_dir = false;
    /// true: answered by the kernel (faccessat as that user, in a child process,
    /// when lscgate runs as root); false: worked out from the mode bits alone
    /// (ACLs unseen), because only root can take another user's identity.
    bool by_kernel = false;
};

/// Access of `user` (a name from the passwd database) to the SQLite registry
/// `db`. Errors: no such user; the child process could not be started.
Result<RegistryAccess> registry_access_of(const std::string& user, const std::string& db);

}  // namespace lscgate
