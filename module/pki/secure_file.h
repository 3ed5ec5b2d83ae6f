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

Result<std::string> read_text_file(const std::filesystem::path& path, std::size_t max_bytes = 4 * 1024 * 1024);

}  // namespace lscgate
