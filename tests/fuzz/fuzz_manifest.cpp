// The manifest reader: `audit verify` reads manifests from an archive folder.
#include <nlohmann/json.hpp>

#include "fuzz_input.hpp"
#include "ops/archive/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const ops::Manifest manifest =
            ops::manifest_from_json(nlohmann::json::parse(ops_fuzz::text_of(data, size)));
        // What it read, written again, reads back the same.
        const ops::Manifest again =
            ops::manifest_from_json(nlohmann::json::parse(ops::manifest_to_json(manifest).dump()));
        ops_fuzz::require(again.rows == manifest.rows && again.sha256 == manifest.sha256 &&
                          again.data_file == manifest.data_file);
    } catch (const nlohmann::json::exception&) {
        // not JSON, or a field missing or of the wrong type: "manifest ... is unreadable"
    }
    return 0;
}
