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
    const auto tmp = path.string() + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) return fail("cannot create " + tmp + ": " + std::strerror(errno));
    // open() honours the umask; force the exact mode so a key is never wider than 0600.
    ::fchmod(fd, static_cast<mode_t>(mode));
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
