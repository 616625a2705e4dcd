#pragma once

#include <optional>
#include <string>

namespace ops {

// A Laravel release the application runs, as far as the operator named it ("11", "12.10",
// "13.26.1"); a missing minor or patch counts as 0.
struct LaravelVersion {
    int major = 8;
    int minor = 0;
    int patch = 0;

    std::string text() const;
    bool at_least(int want_major, int want_minor = 0) const {
        return major != want_major ? major > want_major : minor >= want_minor;
    }
};

inline constexpr int kOldestLaravel = 8;
inline constexpr int kNewestLaravel = 13;

// Parses "X[.Y[.Z]]" with X from 8 to 13; `origin` names the option or setting in the error
// (a UsageError for an option, a ConfigError for an env file's setting).
LaravelVersion parse_laravel_version(const std::string& text, const std::string& origin,
                                     bool from_env_file = false);

}  // namespace ops
