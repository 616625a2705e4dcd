#include "ops/commands/needs.hpp"

#include <algorithm>

namespace ops {
namespace {

template <typename T>
void add_unique(std::vector<T>& into, const std::vector<T>& items) {
    for (const auto& item : items) {
        if (std::find(into.begin(), into.end(), item) == into.end()) into.push_back(item);
    }
}

}  // namespace

std::vector<ColumnNeed> audit_event_columns() {
    return {{"id", kIntegerTypes},           {"tenant_id", kIntegerTypes},
            {"channel", kTextTypes},         {"event", kTextTypes},
            {"actor_type", kTextTypes},      {"subject_type", kTextTypes},
            {"subject_id", kIntegerTypes},   {"metadata", kJsonTypes},
            {"created_at", kTimestampTypes}, {"updated_at", kTimestampTypes}};
}

DatabaseNeeds run_record_needs() {
    DatabaseNeeds needs;
    needs.tables = {{"audit_events",
                     {{"channel", kTextTypes},
                      {"event", kTextTypes},
                      {"actor_type", kTextTypes},
                      {"metadata", kJsonTypes},
                      {"created_at", kTimestampTypes},
                      {"updated_at", kTimestampTypes}},
                     {"INSERT"}}};
    needs.sequences = {{"audit_events", "id", {"USAGE"}}};
    return needs;
}

DatabaseNeeds without_database_queue(DatabaseNeeds needs) {
    std::erase_if(needs.tables, [](const TableNeed& t) { return t.database_queue; });
    std::erase_if(needs.sequences, [](const SequenceNeed& s) { return s.database_queue; });
    return needs;
}

DatabaseNeeds combined(DatabaseNeeds a, const DatabaseNeeds& b) {
    for (const auto& table : b.tables) {
        auto it = std::find_if(a.tables.begin(), a.tables.end(),
                               [&](const TableNeed& t) { return t.table == table.table; });
        if (it == a.tables.end()) {
            a.tables.push_back(table);
            continue;
        }
        add_unique(it->columns, table.columns);
        add_unique(it->privileges, table.privileges);
        it->owner = it->owner || table.owner;
        it->optional = it->optional && table.optional;
        it->database_queue = it->database_queue && table.database_queue;
    }
    for (const auto& sequence : b.sequences) {
        auto it = std::find_if(a.sequences.begin(), a.sequences.end(), [&](const SequenceNeed& s) {
            return s.table == sequence.table && s.column == sequence.column;
        });
        if (it == a.sequences.end()) {
            a.sequences.push_back(sequence);
        } else {
            add_unique(it->privileges, sequence.privileges);
            it->database_queue = it->database_queue && sequence.database_queue;
        }
    }
    add_unique(a.roles, b.roles);
    return a;
}

}  // namespace ops
