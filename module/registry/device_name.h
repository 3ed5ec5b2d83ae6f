#pragma once

// CUCM device names, the identity every CAPF session, LSC subject (CN), SAN,
// log line and registry row is keyed on.

#include "pki/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

/// The device classes whose names CUCM constrains, told apart by the prefix.
enum class DeviceClass {
    Sep,    ///< hardware phone: "SEP" + the 12 hex digits of its MAC
    Ata,    ///< analog telephone adapter port: "ATA" + 12 hex digits
    Csf,    ///< Jabber for Windows/Mac (Client Services Framework)
    Tct,    ///< Jabber for iPhone
    Bot,    ///< Jabber for Android
    Tab,    ///< Jabber for tablets
    Other,  ///< any other name CUCM allows (letters, digits, '.', '_', '-')
};

/// The longest device name CUCM accepts for phones and soft clients.
inline constexpr std::size_t kMaxDeviceNameLength = 15;

/// Checks `name` against the CUCM rule of its class and returns the name as
/// CUCM stores it; the error names the rule that was broken, with the offending
/// text escaped (escape_nonprintable). Rules (source: Cisco Jabber On-Premises
/// Deployment Guide, "Create Software Phone Devices", Device Name field; CUCM
/// Administration Guide, Phone Configuration Settings, "MAC Address"/"Device
/// Name"; ATA ports follow CUCM's "ATA" + 12 hex digits convention — that one
/// taken from the field, not checked against a Cisco document here):
///  - every class: 1 to 15 characters from A-Z a-z 0-9 '.' '_' '-';
///  - SEP / ATA: the prefix + exactly 12 hex digits, returned in upper case
///    ("sep0011223344aa" → "SEP0011223344AA"), as CUCM derives it from the MAC;
///  - CSF: upper-case "CSF" + 1 to 12 letters or digits, case kept ("CSFjdoe");
///  - TCT / BOT / TAB: upper-case prefix + 1 to 12 of A-Z 0-9 '.' '_' '-'
///    (CUCM refuses lower case for these);
///  - other names: case kept.
/// Names are compared exactly after this, so CSF and other case-keeping names
/// are case-sensitive ("CSFjdoe" ≠ "CSFJDOE") and SEP/ATA names are not.
Result<std::string> normalize_device_name(std::string_view name);

/// True when `cn` has the shape of a hardware phone's name, "SEP" in any case and
/// 12 hex digits (normalize_device_name() accepts it as DeviceClass::Sep): what
/// the CN of a phone's LSC looks like. Allocates nothing (RADIUS hot path).
bool looks_like_phone_name(std::string_view cn);

/// The device a certificate CN names: a phone name itself (upper-cased), the
/// phone name after the last '-' of a MIC CN ("CP-8841-SEP001122334455" →
/// "SEP001122334455"), else the CN as it is.
std::string device_from_common_name(std::string_view cn);

/// Whether a MIC's CN names `device` (a normalized name): the whole CN, or its
/// last dash-separated part ("CP-8841-SEP001122334455"), never a mere substring
/// ("XSEP001122334455" does not name SEP001122334455).
bool mic_common_name_names_device(std::string_view cn, std::string_view device);

/// The class of a name that normalize_device_name() accepted.
DeviceClass device_class(std::string_view normalized_name);

/// "SEP phone", "Jabber for iPhone (TCT)", ... for messages.
const char* describe(DeviceClass cls);

/// True for Jabber clients (CSF, TCT, BOT, TAB): software on a general-purpose
/// computer or phone, without a MIC, whose name is usually derived from the user
/// name — so anyone can claim it.
bool is_soft_client(DeviceClass cls);

/// Several names from one command line, normalised, each once in first-seen
/// order; `duplicates` lists (once each) the names that were given more than
/// once, counting spellings that normalise to the same name ("sep…"/"SEP…").
struct DeviceNameList {
    std::vector<std::string> names;
    std::vector<std::string> duplicates;
};

/// normalize_device_name() over `raw`; the first invalid name fails the whole list.
Result<DeviceNameList> normalize_device_names(const std::vector<std::string>& raw);

/// SEP + 12 hex digits → the next MAC (SEP00000000000A → SEP00000000000B); used by bulk tools.
Result<std::string> next_sep_name(std::string_view name, unsigned long long step = 1);

}  // namespace lscgate
