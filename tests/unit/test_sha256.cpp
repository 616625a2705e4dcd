// Sha256 against the published test vectors (FIPS 180-4 examples, NIST CAVS), fed whole and
// in pieces, since the archive writer hashes a file as it writes it.
#include <catch2/catch.hpp>
#include <string>

#include "ops/archive/sha256.hpp"

using ops::Sha256;

namespace {

std::string digest_of(const std::string& bytes) {
    Sha256 hash;
    hash.update(bytes);
    return hash.hex();
}

}  // namespace

TEST_CASE("sha256: the published vectors") {
    CHECK(digest_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(digest_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(digest_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(digest_of(
              "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmn"
              "opqrlmnopqrsmnopqrstnopqrstu") ==
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    CHECK(digest_of(std::string(1000000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    CHECK(digest_of(std::string("\0", 1)) ==
          "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

TEST_CASE("sha256: pieces hash as the whole, and hex() can be read while hashing goes on") {
    const std::string text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    for (std::size_t piece : {1u, 3u, 7u, 55u, 56u, 64u}) {
        INFO("pieces of " << piece);
        Sha256 hash;
        for (std::size_t at = 0; at < text.size(); at += piece) hash.update(text.substr(at, piece));
        CHECK(hash.hex() == digest_of(text));
    }
    Sha256 running;
    running.update("ab");
    CHECK(running.hex() == digest_of("ab"));
    running.update("c");
    CHECK(running.hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(running.hex() == running.hex());
    running.update("");
    CHECK(running.hex() == digest_of("abc"));
}

TEST_CASE("sha256: a million bytes in uneven pieces match the vector") {
    Sha256 hash;
    std::size_t fed = 0;
    for (std::size_t piece = 1; fed < 1000000; piece = piece * 3 % 65537 + 1) {
        const std::size_t n = std::min(piece, 1000000 - fed);
        hash.update(std::string(n, 'a'));
        fed += n;
    }
    CHECK(hash.hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
