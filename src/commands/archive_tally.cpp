#include "archive_tally.hpp"

#include <string_view>
#include <utility>
#include <vector>

namespace ops {
namespace {

template <class T, class V>
void widen(std::optional<T>& low, std::optional<T>& high, const V& value) {
    if (!low || value < *low) low = T(value);
    if (!high || value > *high) high = T(value);
}

void count_channel(std::map<std::string, std::int64_t, std::less<>>& by_channel,
                   std::string_view channel, std::int64_t rows) {
    const auto it = by_channel.find(channel);
    if (it != by_channel.end()) {
        it->second += rows;
    } else {
        by_channel.emplace(std::string(channel), rows);
    }
}

void count_in(std::vector<std::pair<std::string_view, std::int64_t>>& channels,
              std::string_view channel) {
    for (auto& [seen, n] : channels) {
        if (seen == channel) {
            ++n;
            return;
        }
    }
    channels.emplace_back(channel, 1);
}

}  // namespace

void ArchiveTally::add(const ArchivedBatch& batch) {
    if (batch.size() == 0) return;
    std::string_view low = batch.created_at(0), high = low;
    std::int64_t low_id = batch.id(0), high_id = low_id;
    // A batch holds a handful of channels: counted in a short list, then added to the map
    // once each, rather than a map search per row.
    std::vector<std::pair<std::string_view, std::int64_t>> channels;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        count_in(channels, batch.channel(i));
        low_id = std::min(low_id, batch.id(i));
        high_id = std::max(high_id, batch.id(i));
        low = std::min(low, batch.created_at(i));
        high = std::max(high, batch.created_at(i));
    }
    for (const auto& [channel, n] : channels) count_channel(by_channel, channel, n);
    rows += static_cast<std::int64_t>(batch.size());
    widen(first_id, last_id, low_id);
    widen(first_id, last_id, high_id);
    widen(oldest, newest, low);
    widen(oldest, newest, high);
}

void ArchiveTally::add(const ArchiveTally& other) {
    rows += other.rows;
    for (const auto& [channel, n] : other.by_channel) count_channel(by_channel, channel, n);
    if (other.rows == 0) return;
    widen(first_id, last_id, *other.first_id);
    widen(first_id, last_id, *other.last_id);
    widen(oldest, newest, *other.oldest);
    widen(oldest, newest, *other.newest);
}

}  // namespace ops
