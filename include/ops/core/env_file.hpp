#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

// A Laravel `.env` file read exactly as Laravel reads it: phpdotenv 5's parser and loader into
// Laravel's immutable repository (the process environment wins over the file), then each value
// through `Illuminate\Support\Env::get`. docs/ENV_FILE.md lists the rules.
namespace ops {

// Looks a name up in the process environment (std::nullopt: not set; "" is a value).
using GetEnv = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> process_env(const std::string& name);

// What Laravel's env(NAME) gives for each name the file sets, after the process environment
// has overridden it: `null`/`(null)` leave the name out, `true` is "1" and `false`/`empty` are ""
// (PHP's string cast, which is how Laravel's config uses them), and one pair of surrounding
// quotes left in a value is stripped.
using EnvValues = std::map<std::string, std::string>;

// kLaravel: values as Laravel's env() gives them (above). kRaw: phpdotenv's values as they are
// (`false` stays "false"), for ops's own files in the same syntax (the schedule file).
enum class EnvMapping { kLaravel, kRaw };

// Parses `.env` text as phpdotenv 5.4 does (quotes, escapes, `export`, comments, multi-line
// double-quoted values, `${NAME}` interpolation in file order, a UTF-8 byte order mark, invalid
// UTF-8 bytes become '?'). Throws ConfigError naming `origin` and the line, never the text
// (it may be a secret).
EnvValues parse_env_text(const std::string& text, const std::string& origin,
                         const GetEnv& getenv = process_env,
                         EnvMapping mapping = EnvMapping::kLaravel);

// Reads the file (a directory, a FIFO or a missing file is a ConfigError) and parses it.
EnvValues load_env_file(const std::filesystem::path& path, const GetEnv& getenv = process_env,
                        EnvMapping mapping = EnvMapping::kLaravel);

// A GetEnv that knows no names: the file alone decides.
std::optional<std::string> no_env(const std::string& name);

// Env::get's mapping of one repository value: nullopt for null/(null), "1" for true, ""
// for false/empty, one pair of surrounding quotes stripped.
std::optional<std::string> laravel_env_value(const std::string& raw);

// env(NAME) for an application whose file gave `values`: the file's value, else the process
// environment's (through laravel_env_value), else nullopt.
std::optional<std::string> env_lookup(const EnvValues& values, const std::string& name,
                                      const GetEnv& getenv = process_env);

// PHP's mb_convert_encoding($bytes, 'UTF-8') from UTF-8: each maximal invalid subsequence
// becomes one '?'.
std::string php_utf8_scrub(const std::string& bytes);

}  // namespace ops
