#include "harness.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

extern char** environ;

namespace ops_test {
namespace {

std::string unique_suffix() {
    static std::atomic<int> counter{0};
    std::random_device random;
    return std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
           std::to_string(random() % 100000);
}

std::filesystem::path scratch_root() {
    const auto root = std::filesystem::path(required_env("OPS_TEST_SCRATCH"));
    std::filesystem::create_directories(root);
    return root;
}

std::string admin_url(const std::string& database) {
    return "postgresql://postgres@127.0.0.1:" + required_env("OPS_TEST_PGPORT") + "/" + database;
}

}  // namespace

std::string required_env(const std::string& name) {
    static const std::map<std::string, std::string> kBuilt = {
        {"OPS_BIN", OPS_BIN},
        {"OPS_SOURCE_DIR", OPS_SOURCE_DIR},
        {"OPS_TEST_PGPORT", OPS_TEST_PGPORT},
        {"OPS_TEST_CLUSTER_DIR", OPS_TEST_CLUSTER_DIR},
        {"OPS_TEST_SCRATCH", OPS_TEST_SCRATCH},
        {"OPS_TEST_PGBOUNCER_TRANSACTION_PORT", OPS_TEST_PGBOUNCER_TRANSACTION_PORT},
        {"OPS_TEST_PGBOUNCER_SESSION_PORT", OPS_TEST_PGBOUNCER_SESSION_PORT},
        {"OPS_TEST_PGBOUNCER_STATEMENT_PORT", OPS_TEST_PGBOUNCER_STATEMENT_PORT}};
    const char* value = std::getenv(name.c_str());
    if (value != nullptr && *value != '\0') return value;
    const auto built = kBuilt.find(name);
    if (built == kBuilt.end()) FAIL("setting " << name << " is not set");
    return built->second;
}

nlohmann::json RunResult::json() const {
    nlohmann::json parsed;
    try {
        parsed = nlohmann::json::parse(out);
    } catch (const std::exception& e) {
        FAIL("stdout is not one JSON document: " << e.what() << "\nstdout:\n"
                                                 << out << "\nstderr:\n"
                                                 << err);
    }
    REQUIRE(parsed.is_object());
    return parsed;
}

Process::Process(const std::vector<std::string>& argv, const Env& env) {
    const std::string stem = (scratch_root() / ("proc_" + unique_suffix())).string();
    out_path_ = stem + ".out";
    err_path_ = stem + ".err";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);

    std::map<std::string, std::string> merged;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string entry = *e;
        const auto eq = entry.find('=');
        if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    // Tests decide the connection themselves; the caller's own settings must not leak in.
    for (const char* name : {"DATABASE_URL", "OPS_DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE",
                             "PGUSER", "PGPASSWORD"}) {
        merged.erase(name);
    }
    for (const auto& [key, value] : env) merged[key] = value;
    std::vector<std::string> env_strings;
    for (const auto& [key, value] : merged) env_strings.push_back(key + "=" + value);
    std::vector<char*> envp, args;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& s : argv_copy) args.push_back(s.data());
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
}

Process::~Process() {
    if (!waited_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    std::filesystem::remove(out_path_, ec);
    std::filesystem::remove(err_path_, ec);
}

void Process::send(int signal) { ::kill(pid_, signal); }

std::string Process::stderr_so_far() const { return read_file(err_path_); }

RunResult Process::wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    waited_ = true;
    RunResult result;
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
    result.out = read_file(out_path_);
    result.err = read_file(err_path_);
    return result;
}

std::vector<std::string> ops_argv(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {required_env("OPS_BIN")};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

RunResult run_ops(const std::vector<std::string>& args, const Env& env) {
    Process process(ops_argv(args), env);
    RunResult result = process.wait();
    UNSCOPED_INFO("ops exit " << result.exit_code << "\nstdout:\n"
                              << result.out << "\nstderr:\n"
                              << result.err);
    return result;
}

TestDatabase::TestDatabase() : name_("t_" + unique_suffix()) {
    pqxx::connection admin(admin_url("postgres"));
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + tx.quote_name(name_) + " TEMPLATE ops_template");
    connection_ = std::make_unique<pqxx::connection>(url());
}

TestDatabase::~TestDatabase() {
    try {
        connection_.reset();
        pqxx::connection admin(admin_url("postgres"));
        pqxx::nontransaction tx(admin);
        tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
    } catch (const std::exception&) {
        // The cluster is thrown away at the end of the run anyway.
    }
}

void TestDatabase::reconnect() { connection_ = std::make_unique<pqxx::connection>(url()); }

std::string TestDatabase::url() const { return admin_url(name_); }

Env TestDatabase::env() const { return {{"DATABASE_URL", url()}}; }

void TestDatabase::exec(const std::string& sql) {
    if (!connection_->is_open()) connection_ = std::make_unique<pqxx::connection>(url());
    pqxx::nontransaction tx(*connection_);
    tx.exec(sql);
}

std::int64_t TestDatabase::count(const std::string& sql) {
    if (!connection_->is_open()) connection_ = std::make_unique<pqxx::connection>(url());
    pqxx::nontransaction tx(*connection_);
    return tx.exec1(sql)[0].as<std::int64_t>();
}

std::string TestDatabase::scalar(const std::string& sql) {
    if (!connection_->is_open()) connection_ = std::make_unique<pqxx::connection>(url());
    pqxx::nontransaction tx(*connection_);
    const auto field = tx.exec1(sql)[0];
    return field.is_null() ? "" : field.as<std::string>();
}

std::vector<nlohmann::json> TestDatabase::rows_as_json(const std::string& sql) {
    if (!connection_->is_open()) connection_ = std::make_unique<pqxx::connection>(url());
    pqxx::nontransaction tx(*connection_);
    std::vector<nlohmann::json> rows;
    for (const auto& row : tx.exec("SELECT row_to_json(q)::text FROM (" + sql + ") q")) {
        rows.push_back(nlohmann::json::parse(row[0].c_str()));
    }
    return rows;
}

TempDir::TempDir() : path_(scratch_root() / ("dir_" + unique_suffix())) {
    std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir,
                                            const std::string& suffix) {
    std::vector<std::filesystem::path> files;
    if (!std::filesystem::exists(dir)) return files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().string().ends_with(suffix)) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

bool is_manifest(const std::filesystem::path& file) {
    return file.filename().string().find(".manifest.json") != std::string::npos;
}

void cluster(const std::string& action) {
    const std::string command = required_env("OPS_SOURCE_DIR") + "/scripts/pg-cluster.sh " +
                                action + " " + required_env("OPS_TEST_CLUSTER_DIR") + " " +
                                required_env("OPS_TEST_PGPORT");
    REQUIRE(std::system(command.c_str()) == 0);
}

}  // namespace ops_test
