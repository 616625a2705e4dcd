#pragma once

// A fresh private folder for one unit test (mkdtemp under $TMPDIR or /tmp), removed with
// everything in it afterwards. Integration tests use TempDir (harness.hpp), which lives in
// the build tree's scratch folder; unit tests need no build-time locations.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "text_files.hpp"

namespace ops_test {

class ScratchDir {
  public:
    explicit ScratchDir(const std::string& stem = "ops-unit") {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern =
            std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + stem + "-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

}  // namespace ops_test
