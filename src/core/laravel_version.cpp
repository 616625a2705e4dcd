#include "ops/core/laravel_version.hpp"

#include <regex>

#include "ops/core/errors.hpp"

namespace ops {

std::string LaravelVersion::text() const {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

LaravelVersion parse_laravel_version(const std::string& text, const std::string& origin,
                                     bool from_env_file) {
    static const std::regex kForm("^([0-9]{1,2})(?:\\.([0-9]{1,3})(?:\\.([0-9]{1,3}))?)?$");
    std::smatch m;
    LaravelVersion version;
    const bool ok = std::regex_match(text, m, kForm);
    if (ok) {
        version.major = std::stoi(m[1].str());
        version.minor = m[2].matched ? std::stoi(m[2].str()) : 0;
        version.patch = m[3].matched ? std::stoi(m[3].str()) : 0;
    }
    if (!ok || version.major < kOldestLaravel || version.major > kNewestLaravel) {
        const std::string what = origin + ": expected a Laravel version X.Y (8.0 to 13.x, e.g. " +
                                 "11.56 or 13.26.1), got '" + text + "'";
        if (from_env_file) throw ConfigError(what);
        throw UsageError(what);
    }
    return version;
}

}  // namespace ops
