#include "ops/cli/dispatcher.hpp"

int main(int argc, char** argv) { return ops::run_cli(argc, argv); }
