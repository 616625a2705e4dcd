#pragma once

#include <stdexcept>
#include <string>

namespace ops {

// Exit codes are part of the interface: cron, monitoring and CI branch on them.
// They stay clear of CLI11's own 100-127 range; its parse errors map to kUsage.
enum class ExitCode : int {
    kSuccess = 0,
    kFailure = 1,
    kUsage = 2,
    kDriftFound = 3,
    kDatabaseUnavailable = 69,  // EX_UNAVAILABLE
    kLockHeld = 75,             // EX_TEMPFAIL
    kTryLater = 75,             // EX_TEMPFAIL too: stopped early for replica lag
    kConfig = 78,               // EX_CONFIG
    kInterrupted = 130,         // 128 + SIGINT
    kTerminated = 143,          // 128 + SIGTERM
};

// The one base of every error the tool reports; `main` prints what() and the hint
// and exits with the code.
class Error : public std::runtime_error {
  public:
    Error(ExitCode code, const std::string& what, std::string hint = {})
        : std::runtime_error(what), code_(code), hint_(std::move(hint)) {}
    ExitCode code() const { return code_; }
    const std::string& hint() const { return hint_; }

  private:
    ExitCode code_;
    std::string hint_;
};

// Bad option or argument: the message names the option and the accepted form.
class UsageError : public Error {
  public:
    explicit UsageError(const std::string& what, std::string hint = {})
        : Error(ExitCode::kUsage, what, std::move(hint)) {}
};

// Unreadable env file, missing settings.
class ConfigError : public Error {
  public:
    explicit ConfigError(const std::string& what, std::string hint = {})
        : Error(ExitCode::kConfig, what, std::move(hint)) {}
};

// Cannot connect or authenticate.
class DatabaseUnavailable : public Error {
  public:
    explicit DatabaseUnavailable(const std::string& what, std::string hint = {})
        : Error(ExitCode::kDatabaseUnavailable, what, std::move(hint)) {}
};

// Another run of the same command holds its advisory lock.
class LockHeld : public Error {
  public:
    explicit LockHeld(const std::string& what, std::string hint = {})
        : Error(ExitCode::kLockHeld, what, std::move(hint)) {}
};

// Anything that fails while the command runs: lost connection, disk full, bad file.
class RunFailure : public Error {
  public:
    explicit RunFailure(const std::string& what, std::string hint = {})
        : Error(ExitCode::kFailure, what, std::move(hint)) {}
};

}  // namespace ops
