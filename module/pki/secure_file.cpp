#include "pki/secure_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace lscgate {

Status write_file_atomically(const std::filesystem::path& path, const std::string& content, FileMode mode,
                             Durability durability) {
    // A new file of our own (mkstemp: O_CREAT|O_EXCL, mode 0600): a name planted
    // in a directory others may write (a symlink to /etc/shadow) is never opened,
    // so a root CLI can never be made to overwrite or chown another file.
    std::string tmp = path.string() + ".tmp.XXXXXX";
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) return fail("cannot create " + tmp + ": " + std::strerror(errno));
    // open() honours the umask; force the exact mode so a key is never wider than 0600.
    ::fchmod(fd, static_cast<mode_t>(mode));
    if (auto s = give_to_directory_owner(fd, path); !s) {
        ::close(fd);
        ::unlink(tmp.c_str());
        return s;
    }
    std::size_t done = 0;
    while (done < content.size()) {
        const auto n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            const std::string why = std::strerror(errno);
            ::close(fd);
            ::unlink(tmp.c_str());
            return fail("cannot write " + tmp + ": " + why);
        }
        done += static_cast<std::size_t>(n);
    }
    if ((durability == Durability::Synced && ::fsync(fd) != 0) || ::close(fd) != 0) {
        ::unlink(tmp.c_str());
        return fail("cannot flush " + tmp + ": " + std::strerror(errno));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        return fail("cannot rename " + tmp + " to " + path.string() + ": " + why);
    }
    return {};
}

namespace {

// The directory holding `file` ("." for a bare name).
std::filesystem::path directory_of(const std::filesystem::path& file) {
    return file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
}

}  // namespace

Status give_to_directory_owner(int fd, const std::filesystem::path& file) {
    if (::geteuid() != 0) return {};
    struct stat dir {};
    if (::stat(directory_of(file).c_str(), &dir) != 0)
        return fail("cannot stat the directory of " + file.string() + ": " + std::strerror(errno));
    if (dir.st_uid == 0) return {};
    if (::fchown(fd, dir.st_uid, dir.st_gid) != 0)
        return fail("cannot give " + file.string() + " to the owner of its directory: " + std::strerror(errno));
    return {};
}

Status share_new_file_with_directory_group(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return fail("cannot open " + file.string() + ": " + std::strerror(errno));
    Status s = give_to_directory_owner(fd, file);
    struct stat dir {};
    // Only a setgid directory shares its files with its group on purpose (the
    // packaged 2750): group read only, whatever else the directory allows - a
    // reader (FreeRADIUS) that could write the registry could activate any
    // certificate. Any other directory keeps the mode the umask gave.
    if (s && ::stat(directory_of(file).c_str(), &dir) == 0 && (dir.st_mode & S_ISGID) != 0 &&
        (dir.st_mode & S_IRGRP) != 0 && ::fchmod(fd, 0640) != 0)
        s = fail("cannot make " + file.string() + " group-readable: " + std::strerror(errno));
    ::close(fd);
    return s;
}

Status check_secret_file_mode(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};  // the read that follows reports it
    const unsigned mode = st.st_mode & 07777U;
    if ((mode & 077U) == 0) return {};
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", mode);
    return fail(ErrorKind::Config, path.string() + " is a private key but its mode " + octal +
                                       " lets group or others access it; refused. Fix: chmod 600 " + path.string());
}

Result<std::string> read_text_file(const std::filesystem::path& path, std::size_t max_bytes) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return fail("cannot read " + path.string() + ": " + ec.message());
    if (size > max_bytes) return fail(path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("cannot open " + path.string() + ": " + std::strerror(errno));
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

}  // namespace lscgate
