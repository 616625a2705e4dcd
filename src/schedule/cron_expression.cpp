#include "ops/schedule/cron_expression.hpp"

#include <charconv>
#include <sstream>

#include "ops/core/errors.hpp"

namespace ops {
namespace {

struct FieldRule {
    const char* name;
    int min;
    int max;
};

// Day of week 7 is Sunday again, as in cron.
constexpr std::array<FieldRule, 5> kRules = {{
    {"minute", 0, 59},
    {"hour", 0, 23},
    {"day of month", 1, 31},
    {"month", 1, 12},
    {"day of week", 0, 7},
}};

constexpr int kMinute = 0, kHour = 1, kDayOfMonth = 2, kMonth = 3, kDayOfWeek = 4;

const char* const kForm =
    "five fields 'MINUTE HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK', each '*', N or N-M, "
    "optionally /STEP, or a comma list of these (such as '30 2 * * *' or '*/15 * * * *')";

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream in(text);
    while (std::getline(in, part, separator)) parts.push_back(part);
    if (!text.empty() && text.back() == separator) parts.emplace_back();
    return parts;
}

bool parse_number(const std::string& text, int& value) {
    if (text.empty()) return false;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

std::string two_digits(int value) { return (value < 10 ? "0" : "") + std::to_string(value); }

}  // namespace

CronExpression CronExpression::parse(const std::string& text, const std::string& source) {
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string word; in >> word;) words.push_back(word);
    if (words.size() != 5) {
        throw UsageError(source + ": expected " + kForm + ", got '" + text + "'");
    }
    CronExpression expression;
    expression.source_ = source;
    for (int field = 0; field < 5; ++field) {
        expression.fields_[field] = parse_field(words[field], field, source);
        expression.text_ += (field == 0 ? "" : " ") + words[field];
    }
    expression.check_fires();
    return expression;
}

// cron joins the day fields with OR unless one of them starts with '*': then only the day of
// month and the month together decide, and '31 in February' would never fire.
void CronExpression::check_fires() const {
    constexpr std::array<int, 13> kLongestMonth = {0,  31, 29, 31, 30, 31, 30,
                                                   31, 31, 30, 31, 30, 31};
    const auto values = [&](int field) {
        std::array<bool, 32> set{};
        for (const Item& item : fields_[field]) {
            for (int v = item.first; v <= item.last; v += item.step) set[v] = true;
        }
        return set;
    };
    const bool dow_star = fields_[kDayOfWeek].front().any;
    const bool dom_star = fields_[kDayOfMonth].front().any;
    if (!dow_star || dom_star) return;
    const auto days = values(kDayOfMonth);
    const auto months = values(kMonth);
    for (int month = 1; month <= 12; ++month) {
        for (int day = 1; months[month] && day <= kLongestMonth[month]; ++day) {
            if (days[day]) return;
        }
    }
    throw UsageError(source_ + ": '" + text_ +
                     "' never fires: no month it names has the day of month it names");
}

CronExpression::Field CronExpression::parse_field(const std::string& text, int field,
                                                  const std::string& source) {
    const FieldRule& rule = kRules[field];
    const auto bad = [&](const std::string& why) {
        return UsageError(source + ": " + rule.name + " field '" + text + "' " + why +
                          "; expected " + kForm);
    };
    Field items;
    for (const std::string& part : split(text, ',')) {
        Item item;
        const auto slash = part.find('/');
        const std::string range = part.substr(0, slash);
        if (slash != std::string::npos) {
            if (!parse_number(part.substr(slash + 1), item.step) || item.step < 1) {
                throw bad("has a step that is not a whole number of at least 1");
            }
        }
        if (range == "*") {
            item = {rule.min, rule.max, item.step, true};
        } else {
            const auto dash = range.find('-');
            const bool ok = dash == std::string::npos
                                ? parse_number(range, item.first)
                                : parse_number(range.substr(0, dash), item.first) &&
                                      parse_number(range.substr(dash + 1), item.last);
            if (!ok) throw bad("is not '*', a number or a range N-M");
            if (dash == std::string::npos) {
                if (slash != std::string::npos) throw bad("steps a single number");
                item.last = item.first;
            }
            if (item.first < rule.min || item.last > rule.max) {
                throw bad("is outside " + std::to_string(rule.min) + "-" +
                          std::to_string(rule.max));
            }
            if (item.first > item.last) throw bad("is a range that runs backwards");
        }
        items.push_back(item);
    }
    return items;
}

std::string CronExpression::on_calendar() const {
    const auto restricted = [&](int field) {
        return !(fields_[field].size() == 1 && fields_[field][0].any &&
                 fields_[field][0].step == 1);
    };
    if (restricted(kDayOfMonth) && restricted(kDayOfWeek)) {
        throw UsageError(source_ + ": '" + text_ +
                         "' restricts both the day of month and the day of week, which cron "
                         "joins with OR and systemd with AND; keep one of them '*'");
    }
    std::string calendar = restricted(kDayOfWeek) ? calendar_weekdays() + " " : "";
    return calendar + "*-" + calendar_field(kMonth) + "-" + calendar_field(kDayOfMonth) + " " +
           calendar_field(kHour) + ":" + calendar_field(kMinute) + ":00";
}

// systemd writes 'N..M' for ranges and 'START/STEP' for repetitions; a stepped range
// becomes the list of its values.
std::string CronExpression::calendar_field(int field) const {
    std::string out;
    for (const Item& item : fields_[field]) {
        std::string part;
        if (item.any && item.step == 1) {
            part = "*";
        } else if (item.any || (item.last == kRules[field].max && item.step > 1)) {
            part = two_digits(item.first) + "/" + std::to_string(item.step);
        } else if (item.step == 1 && item.first != item.last) {
            part = two_digits(item.first) + ".." + two_digits(item.last);
        } else {
            for (int value = item.first; value <= item.last; value += item.step) {
                part += (part.empty() ? "" : ",") + two_digits(value);
            }
        }
        out += (out.empty() ? "" : ",") + part;
    }
    return out;
}

std::string CronExpression::calendar_weekdays() const {
    static const std::array<const char*, 7> kNames = {"Sun", "Mon", "Tue", "Wed",
                                                      "Thu", "Fri", "Sat"};
    std::array<bool, 7> days{};
    for (const Item& item : fields_[kDayOfWeek]) {
        for (int day = item.first; day <= item.last; day += item.step) days[day % 7] = true;
    }
    std::string out;
    for (int day = 0; day < 7; ++day) {
        if (days[day]) out += (out.empty() ? "" : ",") + std::string(kNames[day]);
    }
    return out;
}

}  // namespace ops
