#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace ops {

// Incremental SHA-256 (OpenSSL's EVP), so a file's digest is known without reading it back.
class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(std::string_view bytes);
    std::string hex() const;  // of everything so far; the hash can keep going

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace ops
