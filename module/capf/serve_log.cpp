#include "capf/serve_log.h"

#include "pki/certificate.h"
#include "registry/store.h"

namespace lscgate::capf {

void ServeLog::line(const std::string& text) {
    const std::string whole = format_utc(now_utc()) + " " + text + "\n";
    std::lock_guard lock(mutex_);
    out_ << whole << std::flush;
}

}  // namespace lscgate::capf
