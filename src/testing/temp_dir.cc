#include "testing/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <utility>

namespace outpost::testing {

namespace fs = std::filesystem;

TempDir::TempDir(std::string_view prefix, std::string_view base) {
  const std::string tmpl = std::string(base) + "/" + std::string(prefix) + "-XXXXXX";
  std::string path = tmpl;  // mkdtemp fills in the X's, even when it fails
  if (::mkdtemp(path.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  path_ = std::move(path);
}

TempDir::~TempDir() { Remove(); }

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    Remove();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

void TempDir::Remove() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
  path_.clear();
}

std::string TempDir::Join(std::string_view relative) const {
  return path_ + "/" + std::string(relative);
}

std::string TempDir::WriteFile(std::string_view relative, std::string_view content) const {
  const std::string file = Join(relative);
  std::error_code ec;
  fs::create_directories(fs::path(file).parent_path(), ec);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + file);
  return file;
}

std::string TempDir::ReadFile(std::string_view relative) const {
  const std::string file = relative.starts_with('/') ? std::string(relative) : Join(relative);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string TempDir::Release() { return std::exchange(path_, {}); }

}  // namespace outpost::testing
