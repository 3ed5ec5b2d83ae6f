#pragma once

// `itl check-capf`: is the file's CAPF record (FUNCTION 4) this CAPF certificate?
// A phone authenticates the CAPF TLS server with that record only: none gives
// "No valid CAPF server", another certificate gives "LSC: Connection Failed"
// (Cisco CUCM Security Guide, LSC troubleshooting).

#include "itl/itl_file.h"
#include "pki/bytes.h"

#include <cstddef>
#include <string>
#include <vector>

namespace lscgate::itl {

enum class CapfMatch {
    Same,     ///< a CAPF record carries this certificate (DER equal, or CERTHASH of it)
    Other,    ///< CAPF records exist, none is this certificate
    Missing,  ///< no record has FUNCTION 4
};

/// Short stable name ("same", "other", "missing").
const char* to_string(CapfMatch match);

struct CapfRecordFinding {
    std::size_t index = 0;   ///< into File::records
    std::string sha256;      ///< of its CERTIFICATE; "" when it has none
    std::string subject;     ///< its SUBJECTNAME text, or the certificate's subject; escaped (pki/printable.h)
    bool matches = false;
    std::string detail;      ///< e.g. "no certificate, only DNSNAME 10.0.0.5"; file text in it escaped
};

struct CapfCheck {
    CapfMatch match = CapfMatch::Missing;
    std::string expected_sha256;  ///< of the CAPF certificate given
    std::vector<CapfRecordFinding> records;
};

/// Compares every CAPF record of `file` with `capf_der` (a DER certificate): by DER
/// SHA-256, or, for a record with CERTHASH and no CERTIFICATE, by that hash.
CapfCheck check_capf(const File& file, ByteView capf_der);

}  // namespace lscgate::itl
