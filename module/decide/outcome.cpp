#include "decide/outcome.h"

namespace lscgate {

std::string_view to_string(RadiusOutcome outcome) noexcept {
    switch (outcome) {
        case RadiusOutcome::Accept: return "accept";
        case RadiusOutcome::Restrict: return "restrict";
        case RadiusOutcome::Reject: return "reject";
        case RadiusOutcome::Noop: return "noop";
        case RadiusOutcome::Error: return "error";
    }
    return "error";
}

}  // namespace lscgate
