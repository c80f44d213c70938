// A stand-alone `outpost shim` for the runner tests, so they do not need the whole app.
#include <cstring>

#include "runner/shim/shim.h"

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "shim") == 0) return outpost::RunShim(argv[2]);
  return 2;
}
