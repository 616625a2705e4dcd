#include "ops/archive/archive_reader.hpp"

#include <fstream>

#include "ops/archive/sha256.hpp"
#include "ops/core/errors.hpp"

namespace ops {

namespace {
constexpr unsigned kReadChunk = 1 << 16;
}  // namespace

void classify_line(ArchiveLine& line) {
    line.whole = false;
    line.id = 0;
    line.problem.clear();
    if (!line.terminated) {
        line.fields.clear();
        line.problem = "torn (no line end: a run was interrupted while writing it)";
        return;
    }
    if (!parse_archive_line(line.text, line.fields, line.problem)) {
        line.problem = "not a JSON object: " + line.problem;
        return;
    }
    const auto id = line_id(line.text, line.fields);
    if (!id) {
        line.problem = "no integer id";
        return;
    }
    line.whole = true;
    line.id = *id;
}

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
    buffer_.resize(old_size + static_cast<std::size_t>(read > 0 ? read : 0));
    if (read > 0) return true;
    eof_ = true;
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    // Z_BUF_ERROR is zlib's "unexpected end of file": the stream stops where a crash cut
    // it (after a sync flush). Anything else is data that does not decode.
    if (code == Z_BUF_ERROR) {
        end_ = StreamEnd::kTruncated;
    } else if (code != Z_OK) {
        end_ = StreamEnd::kCorrupt;
    }
    if (code != Z_OK) end_detail_ = message == nullptr ? "zlib error" : message;
    return false;
}

bool ArchiveReader::next(ArchiveLine& line) {
    while (true) {
        const auto newline = buffer_.find('\n', position_);
        if (newline != std::string::npos) {
            line.text.assign(buffer_, position_, newline - position_);
            position_ = newline + 1;
            line.terminated = true;
            break;
        }
        if (!fill()) {
            if (position_ >= buffer_.size()) return false;
            line.text.assign(buffer_, position_);
            position_ = buffer_.size();
            line.terminated = false;
            break;
        }
    }
    line.number = ++lines_;
    classify_line(line);
    return true;
}

std::optional<ArchiveLine> ArchiveReader::next() {
    ArchiveLine line;
    if (!next(line)) return std::nullopt;
    return line;
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
