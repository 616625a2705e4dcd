#include "ops/archive/archive_reader.hpp"

#include <fstream>

#include "ops/archive/sha256.hpp"
#include "ops/core/errors.hpp"

namespace ops {
namespace {

constexpr unsigned kReadChunk = 1 << 16;

ArchiveLine classify(std::string text, bool terminated) {
    ArchiveLine line{std::move(text), false, 0, nullptr};
    if (!terminated) return line;
    line.value = nlohmann::json::parse(line.text, nullptr, false);
    if (line.value.is_object() && line.value.contains("id") &&
        line.value["id"].is_number_integer()) {
        line.whole = true;
        line.id = line.value["id"].get<std::int64_t>();
    }
    return line;
}

}  // namespace

ArchiveReader::ArchiveReader(const std::filesystem::path& path)
    : file_(gzopen(path.c_str(), "rb")) {
    if (file_ == nullptr) throw RunFailure("cannot open archive file '" + path.string() + "'");
    gzbuffer(file_, kReadChunk);
}

ArchiveReader::~ArchiveReader() { gzclose(file_); }

bool ArchiveReader::fill() {
    if (eof_) return false;
    buffer_.erase(0, position_);
    position_ = 0;
    const std::size_t old_size = buffer_.size();
    buffer_.resize(old_size + kReadChunk);
    const int read = gzread(file_, buffer_.data() + old_size, kReadChunk);
    // A negative count is a truncated gzip stream (a crash mid-write): what came before stands.
    buffer_.resize(old_size + static_cast<std::size_t>(read > 0 ? read : 0));
    if (read <= 0) eof_ = true;
    return read > 0;
}

std::optional<ArchiveLine> ArchiveReader::next() {
    while (true) {
        const auto newline = buffer_.find('\n', position_);
        if (newline != std::string::npos) {
            std::string text = buffer_.substr(position_, newline - position_);
            position_ = newline + 1;
            return classify(std::move(text), true);
        }
        if (!fill()) break;
    }
    if (position_ < buffer_.size()) {
        std::string rest = buffer_.substr(position_);
        position_ = buffer_.size();
        return classify(std::move(rest), false);
    }
    return std::nullopt;
}

FileDigest digest_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw RunFailure("cannot read '" + path.string() + "'");
    Sha256 hash;
    FileDigest digest;
    std::string chunk(kReadChunk, '\0');
    while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
        const auto got = static_cast<std::size_t>(in.gcount());
        hash.update(std::string_view(chunk.data(), got));
        digest.bytes += got;
    }
    digest.sha256 = hash.hex();
    return digest;
}

}  // namespace ops
