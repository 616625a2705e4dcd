#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

// What the integration tests need: the real `ops` binary run as a process, and a fresh
// database (from the template that holds the application schema) on the test cluster.
namespace ops_test {

using Env = std::map<std::string, std::string>;

// A required setting from CTest's environment; its absence fails the test (never skips it).
std::string required_env(const std::string& name);

struct RunResult {
    int exit_code = -1;  // -1 when killed by a signal
    int signal = 0;
    std::string out;
    std::string err;
    nlohmann::json json() const;  // stdout parsed; fails the test if it is not one JSON object
};

// A running `ops` (or any program) whose stdout and stderr go to files.
class Process {
  public:
    Process(const std::vector<std::string>& argv, const Env& env);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    void send(int signal);
    RunResult wait();
    pid_t pid() const { return pid_; }
    std::string stderr_so_far() const;

  private:
    pid_t pid_ = -1;
    std::filesystem::path out_path_, err_path_;
    bool waited_ = false;
};

// Runs the ops binary to completion.
RunResult run_ops(const std::vector<std::string>& args, const Env& env = {});
std::vector<std::string> ops_argv(const std::vector<std::string>& args);

// A database created from the schema template for one test, dropped afterwards.
class TestDatabase {
  public:
    TestDatabase();
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    const std::string& name() const { return name_; }
    std::string url() const;  // postgresql://postgres@127.0.0.1:PORT/NAME
    Env env() const;          // {DATABASE_URL: url()}
    pqxx::connection& connection() { return *connection_; }
    void reconnect();  // after the cluster restarted

    void exec(const std::string& sql);
    std::int64_t count(const std::string& sql);  // first column of one row
    std::string scalar(const std::string& sql);  // "" for NULL
    // Rows as parsed JSON objects (row_to_json of `sql`), in the query's order.
    std::vector<nlohmann::json> rows_as_json(const std::string& sql);

  private:
    std::string name_;
    std::unique_ptr<pqxx::connection> connection_;
};

// A fresh empty folder under the build tree, removed afterwards.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path);
std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir,
                                            const std::string& suffix);
// A manifest, or the temporary one a kill -9 left while ops wrote it (".manifest.json.tmp.*").
bool is_manifest(const std::filesystem::path& file);
void cluster(const std::string& action);  // pg-cluster.sh restart/stop/start on the test cluster

}  // namespace ops_test
