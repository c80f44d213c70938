// Test helper: `netproxy_forward_helper --listen A --socket P -- CMD...`.
#include "runner/netproxy/forwarder.h"

int main(int argc, char** argv) { return outpost::netproxy::RunSandboxForward(argc, argv); }
