// Output files are written under a temporary name and renamed into place: a reader (a CI job,
// a report watching the folder) never sees a half-written file, and a run that fails leaves
// nothing behind but the files it had finished.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace dsim {

class AtomicFile {
 public:
  // Opens `path` + ".tmp" for writing; check ok().
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();  // removes the temporary unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  bool ok() const { return static_cast<bool>(out_); }
  std::ostream& stream() { return out_; }
  const std::filesystem::path& path() const { return path_; }
  // Closes the temporary and renames it to `path`. False if anything failed on the way.
  bool commit();

 private:
  std::filesystem::path path_;
  std::filesystem::path temporary_;
  std::ofstream out_;
  bool committed_ = false;
};

// The whole content at once, through an AtomicFile.
bool write_file_atomically(const std::filesystem::path& path, const std::string& content);

}  // namespace dsim
