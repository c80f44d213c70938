// app: the one place that knows the concrete object graph. main() only calls app::Main.
#pragma once

namespace outpost::app {

// Parses the command line and runs the chosen subcommand; returns the process exit code.
int Main(int argc, char** argv);

}  // namespace outpost::app
