// Errors as values at module edges: a small stand-in for C++23 std::expected,
// because the toolchain (GCC 12, C++20) does not ship <expected> in C++20 mode.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace lscgate {

/// What kind of failure an Error is, so callers can act on it without parsing
/// text: a CAPF session counts only AuthFailed toward the device lockout, the CLI
/// maps Config/Input to exit code 2 and Internal to 1, RADIUS fails closed on
/// Internal/Unavailable.
enum class ErrorKind {
    Internal,     ///< a fault of ours or of a library (OpenSSL, SQLite); the default
    Config,       ///< the configuration is missing or wrong (no MIC roots, bad key file)
    Input,        ///< outside input is malformed or refused by a rule (bad frame, bad name)
    AuthFailed,   ///< the peer failed to prove who it is (wrong string, bad signature)
    Unavailable,  ///< a resource is busy or gone for now (database locked, disk full)
};

/// Short stable name for logs and JSON ("auth-failed", "config", ...).
constexpr const char* to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::Internal: return "internal";
        case ErrorKind::Config: return "config";
        case ErrorKind::Input: return "input";
        case ErrorKind::AuthFailed: return "auth-failed";
        case ErrorKind::Unavailable: return "unavailable";
    }
    return "internal";
}

struct Error {
    std::string message;
    ErrorKind kind = ErrorKind::Internal;
};

/// An error of kind Internal (the default: a failure nobody classified is never
/// mistaken for the peer's fault).
inline Error fail(std::string message) { return Error{std::move(message), ErrorKind::Internal}; }
/// An error of the given kind.
inline Error fail(ErrorKind kind, std::string message) { return Error{std::move(message), kind}; }

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { return std::get<1>(state_); }
    const std::string& message() const { return error().message; }
    ErrorKind kind() const { return error().kind; }

private:
    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return error_; }
    const std::string& message() const { return error_.message; }
    ErrorKind kind() const { return error_.kind; }

private:
    Error error_;
    bool failed_ = false;
};

using Status = Result<void>;

}  // namespace lscgate
