// Monitoring with the real programs, in the order docs/OBSERVABILITY_BASELINE.md installs them
// on Debian: real `ops` runs write the metrics folder; promtool checks every file; Debian's
// node_exporter, run as the unprivileged `prometheus` account (no groups), exposes them through
// its textfile collector; a real Prometheus scrapes that node_exporter with the shipped rules
// (packaging/prometheus/ops-alerts.yml) and its API shows alerts for a stale file, none for
// fresh ones, and none again once a run succeeds. Both servers listen on 127.0.0.1 only, on
// ports from CMake (OPS_TEST_NODE_EXPORTER_PORT, OPS_TEST_PROMETHEUS_PORT), and are stopped
// by the test, SIGKILL after 10 s at the latest.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "promtool.hpp"

extern char** environ;

using namespace ops_test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The account Debian's prometheus-node-exporter and prometheus packages run their daemons as.
constexpr const char* kServiceAccount = "prometheus";
constexpr auto kWaitLimit = 40s;  // for a server to start or an alert to change

std::string setting(const char* name, const char* built) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : built;
}

struct Account {
    uid_t uid = 0;
    gid_t gid = 0;
};

Account service_account() {
    const passwd* entry = ::getpwnam(kServiceAccount);
    INFO("the account '" << kServiceAccount << "' comes with Debian's prometheus packages "
                         << "(scripts/install-deps.sh installs them)");
    REQUIRE(entry != nullptr);
    REQUIRE(entry->pw_uid != 0);
    INFO("the test switches node_exporter and Prometheus to that account: run it as root");
    REQUIRE(::geteuid() == 0);
    return {entry->pw_uid, entry->pw_gid};
}

// One HTTP/1.0 GET on 127.0.0.1 (the server closes the connection after the body). Nothing
// when the server does not answer.
struct HttpResponse {
    int status = 0;
    std::string body;
};

std::optional<HttpResponse> http_get(int port, const std::string& target) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string raw;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        const std::string request = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size())) {
            char buffer[65536];
            for (ssize_t got; (got = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
                raw.append(buffer, static_cast<std::size_t>(got));
            }
        }
    }
    ::close(fd);
    const auto body = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12 || body == std::string::npos) {
        return std::nullopt;
    }
    return HttpResponse{std::stoi(raw.substr(9, 3)), raw.substr(body + 4)};
}

json api(int port, const std::string& target) {
    const auto response = http_get(port, target);
    REQUIRE(response);
    INFO(target << " answered " << response->status << ": " << response->body);
    REQUIRE(response->status == 200);
    const json parsed = json::parse(response->body);
    REQUIRE(parsed["status"] == "success");
    return parsed["data"];
}

// Checks `ready` every 200 ms until it holds or kWaitLimit passes.
template <typename Ready>
bool eventually(Ready ready) {
    const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
    while (!ready()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(200ms);
    }
    return true;
}

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A server run as the service account through setpriv (which execs it, so the pid is the
// server's), its output in `log`. Stopped on destruction: SIGTERM, SIGKILL after 10 s.
class Server {
  public:
    Server(const Account& account, std::vector<std::string> argv, std::filesystem::path log)
        : log_(std::move(log)) {
        std::vector<std::string> full = {"/usr/bin/setpriv",
                                         "--reuid=" + std::to_string(account.uid),
                                         "--regid=" + std::to_string(account.gid),
                                         "--clear-groups",
                                         "--no-new-privs",
                                         "--"};
        full.insert(full.end(), argv.begin(), argv.end());
        std::vector<char*> args;
        for (auto& s : full) args.push_back(s.data());
        args.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        REQUIRE(rc == 0);
    }
    ~Server() { stop(); }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    bool running() {
        if (pid_ < 0) return false;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
        pid_ = -1;
        return false;
    }
    std::string log() const { return read_file(log_); }

    void stop() {
        if (!running()) return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 100 && running(); ++i) std::this_thread::sleep_for(100ms);
        if (running()) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }

  private:
    std::filesystem::path log_;
    pid_t pid_ = -1;
};

// A condition that must come true while `server` runs; its log tells why when it does not.
#define REQUIRE_SERVED(condition, server)                                       \
    do {                                                                        \
        if (!(condition)) FAIL(#condition << "\nits log:\n" << (server).log()); \
    } while (false)

// `install -d -m 0755 DIR`, as the doc does for /var/lib/ops/metrics.
void install_folder(const std::filesystem::path& dir) {
    const auto result = Process({"/usr/bin/install", "-d", "-m", "0755", dir.string()}, {}).wait();
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
}

// "name{a="x",b="y"}" -> value, labels sorted, for the samples whose name starts with
// `prefix` in a text exposition.
std::map<std::string, double> samples(const std::string& text, const std::string& prefix) {
    static const std::regex kSample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$)");
    static const std::regex kLabel(R"(([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\]*)\")");
    std::map<std::string, double> found;
    std::istringstream lines(text);
    std::smatch m;
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(prefix, 0) != 0 || !std::regex_match(line, m, kSample)) continue;
        std::set<std::string> labels;
        const std::string label_text = m[3];
        for (std::sregex_iterator it(label_text.begin(), label_text.end(), kLabel), end; it != end;
             ++it) {
            labels.insert((*it)[1].str() + "=\"" + (*it)[2].str() + "\"");
        }
        std::string key = m[1].str() + "{";
        for (const auto& label : labels) key += (key.back() == '{' ? "" : ",") + label;
        found[key + "}"] = std::stod(m[4]);
    }
    return found;
}

// A fresh folder in /tmp, mode 0755: node_exporter's account must reach the files in it, which
// a build tree under a private home folder would not let it do. Removed afterwards.
class PublicDir {
  public:
    PublicDir() {
        std::string name = (std::filesystem::temp_directory_path() / "ops-monitoring-XXXXXX");
        REQUIRE(::mkdtemp(name.data()) != nullptr);
        path_ = name;
        std::filesystem::permissions(path_, static_cast<std::filesystem::perms>(0755));
    }
    ~PublicDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    PublicDir(const PublicDir&) = delete;
    PublicDir& operator=(const PublicDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

// What the rules would alert on: a textfile folder of three commands' runs.
struct Folder {
    TestDatabase db;
    PublicDir dir;
    std::filesystem::path metrics = dir.path() / "metrics";

    RunResult run(std::vector<std::string> args, const Env& env) {
        args.insert(args.begin(), {"--metrics-dir", metrics.string()});
        return run_ops(args, env);
    }
    RunResult archive(const Env& env) {
        return run({"audit", "archive", "--dir", (dir.path() / "archives").string()}, env);
    }
    void seed() {
        db.exec(
            "INSERT INTO audit_events (channel, event, created_at) SELECT 'web', 'e', "
            "timestamp '2025-01-01' + i * interval '1 minute' FROM generate_series(1, 42) AS i");
        db.exec(
            "INSERT INTO tenants (name, created_at) VALUES ('a', '2024-01-01'), "
            "('b', '2024-01-01')");
        db.exec(
            "INSERT INTO orders (tenant_id, number, status, created_at, updated_at) "
            "SELECT 1, 'N-' || i, 'completed', '2025-03-10', '2025-03-10' "
            "FROM generate_series(1, 3) AS i");
    }
    void check_every_file() {
        const auto files = files_in(metrics, ".prom");
        REQUIRE(files.size() == 3);
        for (const auto& file : files) {
            INFO(file);
            CHECK((std::filesystem::status(file).permissions() & std::filesystem::perms::all) ==
                  static_cast<std::filesystem::perms>(0644));
            check_metrics_file(file);
        }
    }
    std::map<std::string, double> written() {
        std::map<std::string, double> all;
        for (const auto& file : files_in(metrics, ".prom")) all.merge(samples(read_file(file), ""));
        return all;
    }
};

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    REQUIRE(out.good());
}

// The archive's last success moved back 49 h: the fixture of a stale file, which the next
// (failing) run of ops carries over as it does a real one.
void age_last_success(const std::filesystem::path& file, double seconds) {
    static const std::regex kSuccess(R"(ops_last_success_timestamp_seconds\{[^}]*\} ([0-9.]+)\n)");
    std::string text = read_file(file);
    std::smatch m;
    REQUIRE(std::regex_search(text, m, kSuccess));
    text.replace(static_cast<std::size_t>(m.position(1)), static_cast<std::size_t>(m.length(1)),
                 std::to_string(now_seconds() - seconds));
    write_text(file, text);
}

std::string prometheus_config(int node_exporter_port) {
    return "global:\n"
           "  scrape_interval: 1s\n"
           "  evaluation_interval: 1s\n"
           "rule_files:\n"
           "  - ops-alerts.yml\n"
           "scrape_configs:\n"
           "  - job_name: node\n"
           "    static_configs:\n"
           "      - targets: ['127.0.0.1:" +
           std::to_string(node_exporter_port) + "']\n";
}

// When Prometheus last evaluated the ops rule group (0 before the first time).
double last_evaluation(int port) {
    const auto response = http_get(port, "/metrics");
    if (!response) return 0;
    static const std::regex kLine(
        R"(^prometheus_rule_group_last_evaluation_timestamp_seconds\{rule_group="[^"]*;ops"\} (\S+)$)",
        std::regex::multiline);
    std::smatch m;
    return std::regex_search(response->body, m, kLine) ? std::stod(m[1]) : 0;
}

// "OpsRunFailing pending audit archive", ... for every alert Prometheus holds.
std::multiset<std::string> alerts(int port) {
    std::multiset<std::string> found;
    const json data = api(port, "/api/v1/alerts");
    for (const auto& alert : data["alerts"]) {
        found.insert(alert["labels"]["alertname"].get<std::string>() + " " +
                     alert["state"].get<std::string>() + " " +
                     alert["labels"].value("command", "(no command)"));
    }
    return found;
}

// The rules installed and checked as the doc's steps 5 and 6 do, under `dir`; the
// command line of a Prometheus that loads them and scrapes the node_exporter.
std::vector<std::string> prometheus_argv(const std::filesystem::path& dir, const Account& account,
                                         int node_port, int prometheus_port) {
    const auto etc = dir / "etc";
    const auto tsdb = dir / "tsdb";
    install_folder(etc);
    install_folder(tsdb);
    REQUIRE(::chown(tsdb.c_str(), account.uid, account.gid) == 0);
    std::filesystem::copy_file(std::filesystem::path(required_env("OPS_SOURCE_DIR")) /
                                   "packaging/prometheus/ops-alerts.yml",
                               etc / "ops-alerts.yml");
    write_text(etc / "prometheus.yml", prometheus_config(node_port));
    promtool({"check", "rules", (etc / "ops-alerts.yml").string()});
    promtool({"check", "config", (etc / "prometheus.yml").string()});
    return {setting("OPS_PROMETHEUS", OPS_PROMETHEUS),
            "--config.file=" + (etc / "prometheus.yml").string(),
            "--storage.tsdb.path=" + tsdb.string(),
            "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)};
}

// Until Prometheus holds the three commands' series and has evaluated the rules since, so that
// "no alert" means the rules saw the files.
void wait_for_rules_on_three_files(Server& prometheus, int port) {
    const std::string query = "/api/v1/query?query=ops_last_run_exit_code";
    REQUIRE_SERVED(eventually([&] {
                       const auto r = prometheus.running() ? http_get(port, query) : std::nullopt;
                       return r && r->status == 200 &&
                              json::parse(r->body)["data"]["result"].size() == 3;
                   }),
                   prometheus);
    const double seen = now_seconds();
    REQUIRE_SERVED(eventually([&] { return last_evaluation(port) > seen + 1; }), prometheus);
    const auto groups = api(port, "/api/v1/rules")["groups"];
    REQUIRE(groups.size() == 1);
    CHECK(groups[0]["rules"].size() == 7);
    for (const auto& rule : groups[0]["rules"]) CHECK(rule["health"] == "ok");
}

// Until the stale archive fires and the failing run's alert is pending: a scrape between the
// aging and the failed run already fires the stale alert on the old exit code, so waiting for it
// alone races the next scrape.
void check_stale_archive_alerts(int port) {
    const std::multiset<std::string> expected{"OpsAuditArchiveStale firing audit archive",
                                              "OpsRunFailing pending audit archive"};
    std::multiset<std::string> now;
    if (!eventually([&] {
            now = alerts(port);
            return now == expected;
        })) {
        FAIL("not the stale and failing alerts; Prometheus's alerts "
             << api(port, "/api/v1/alerts").dump() << "\nits rules "
             << api(port, "/api/v1/rules").dump());
    }
    const json firing = api(port, "/api/v1/alerts");
    for (const auto& alert : firing["alerts"]) {
        if (alert["labels"]["alertname"] != "OpsAuditArchiveStale") continue;
        CHECK(alert["annotations"]["summary"].get<std::string>().rfind(
                  "No successful ops audit archive for 2d 1h 0m", 0) == 0);
        CHECK(alert["labels"]["job"] == "node");
    }
}

}  // namespace

TEST_CASE(
    "monitoring: node_exporter and Prometheus read what ops writes and the shipped rules alert "
    "on a stale file only until a run succeeds") {
    const Account account = service_account();
    const int node_port =
        std::stoi(setting("OPS_TEST_NODE_EXPORTER_PORT", OPS_TEST_NODE_EXPORTER_PORT));
    const int prometheus_port =
        std::stoi(setting("OPS_TEST_PROMETHEUS_PORT", OPS_TEST_PROMETHEUS_PORT));
    Folder folder;
    folder.seed();

    // 1. The textfile folder, then real runs of the three scheduled commands.
    install_folder(folder.metrics);
    REQUIRE(folder.archive(folder.db.env()).exit_code == 0);
    REQUIRE(folder.run({"wa", "redrive-failed"}, folder.db.env()).exit_code == 0);
    REQUIRE(folder.run({"quota", "reconcile", "2025-03"}, folder.db.env()).exit_code == 0);
    folder.check_every_file();
    const auto written = folder.written();
    CHECK(written.at(R"(ops_last_run_rows{action="archived",command="audit archive"})") == 42);
    CHECK(written.at(R"(ops_last_run_rows{action="inserted",command="quota reconcile"})") == 1);
    CHECK(written.at(R"(ops_consecutive_failures{command="wa redrive-failed"})") == 0);

    // 2. node_exporter's textfile collector on that folder exposes every ops_* sample.
    const auto logs = folder.dir.path();
    Server node_exporter(account,
                         {setting("OPS_NODE_EXPORTER", OPS_NODE_EXPORTER),
                          "--web.listen-address=127.0.0.1:" + std::to_string(node_port),
                          "--collector.disable-defaults", "--collector.textfile",
                          "--collector.textfile.directory=" + folder.metrics.string()},
                         logs / "node_exporter.log");
    std::optional<HttpResponse> scrape;
    REQUIRE_SERVED(eventually([&] {
                       return node_exporter.running() &&
                              (scrape = http_get(node_port, "/metrics")).has_value();
                   }),
                   node_exporter);
    REQUIRE(scrape->status == 200);
    CHECK(samples(scrape->body, "node_textfile_scrape_error") ==
          std::map<std::string, double>{{"node_textfile_scrape_error{}", 0}});
    CHECK(samples(scrape->body, "ops_") == written);

    // 3. Prometheus with the shipped rules, checked by promtool as the doc does.
    Server prometheus(account,
                      prometheus_argv(folder.dir.path(), account, node_port, prometheus_port),
                      logs / "prometheus.log");
    wait_for_rules_on_three_files(prometheus, prometheus_port);
    CHECK(alerts(prometheus_port).empty());  // three fresh files: nothing to alert on

    // 4. The archive has not succeeded for 49 h and its last run failed (exit 69).
    const auto archive_file = folder.metrics / "ops_audit_archive.prom";
    age_last_success(archive_file, 49 * 3600);
    REQUIRE(
        folder.archive({{"DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none"}}).exit_code ==
        69);
    folder.check_every_file();
    INFO("the archive's file:\n" << read_file(archive_file));
    check_stale_archive_alerts(prometheus_port);

    // 5. A successful run clears both.
    REQUIRE(folder.archive(folder.db.env()).exit_code == 0);
    folder.check_every_file();
    CHECK(eventually([&] { return alerts(prometheus_port).empty(); }));

    prometheus.stop();
    node_exporter.stop();
    CHECK(!prometheus.running());
    CHECK(!node_exporter.running());
}
