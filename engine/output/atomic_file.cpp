#include "output/atomic_file.hpp"

namespace dsim {

AtomicFile::AtomicFile(std::filesystem::path path)
    : path_(std::move(path)), temporary_(path_.string() + ".tmp") {
  out_.open(temporary_, std::ios::binary | std::ios::trunc);
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  out_.close();
  std::error_code ec;
  std::filesystem::remove(temporary_, ec);
}

bool AtomicFile::commit() {
  if (committed_) return true;
  out_.flush();
  const bool written = static_cast<bool>(out_);
  out_.close();
  if (!written || out_.fail()) return false;
  std::error_code ec;
  std::filesystem::rename(temporary_, path_, ec);
  committed_ = !ec;
  return committed_;
}

bool write_file_atomically(const std::filesystem::path& path, const std::string& content) {
  AtomicFile f(path);
  if (!f.ok()) return false;
  f.stream() << content;
  return f.commit();
}

}  // namespace dsim
