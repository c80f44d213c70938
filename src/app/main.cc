#include "app/app.h"

int main(int argc, char** argv) { return outpost::app::Main(argc, argv); }
