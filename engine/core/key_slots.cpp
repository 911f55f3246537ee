#include "core/key_slots.hpp"

namespace dsim {

uint32_t KeySlots::find(uint64_t key) const {
  if (key < kDenseLimit) return key < dense_.size() ? dense_[key] : kNone;
  if (cells_.empty()) return kNone;
  for (size_t i = home(key);; i = (i + 1) & mask_) {
    const Cell& c = cells_[i];
    if (c.slot == kNone) return kNone;
    if (c.key == key) return c.slot;
  }
}

void KeySlots::insert(uint64_t key, uint32_t slot) {
  if (key < kDenseLimit) {
    if (key >= dense_.size()) {
      size_t n = dense_.empty() ? 64 : dense_.size();
      while (n <= key) n *= 2;
      dense_.resize(n, kNone);
    }
    dense_[key] = slot;
    ++size_;
    return;
  }
  if ((hashed_ + 1) * 2 > cells_.size()) grow();  // keep at most half full: short probes
  size_t i = home(key);
  while (cells_[i].slot != kNone) i = (i + 1) & mask_;
  cells_[i] = Cell{key, slot};
  ++hashed_;
  ++size_;
}

void KeySlots::erase(uint64_t key) {
  if (key < kDenseLimit) {
    if (key < dense_.size() && dense_[key] != kNone) {
      dense_[key] = kNone;
      --size_;
    }
    return;
  }
  if (cells_.empty()) return;
  size_t i = home(key);
  for (;; i = (i + 1) & mask_) {
    if (cells_[i].slot == kNone) return;
    if (cells_[i].key == key) break;
  }
  // Backward shift: move later members of the probe run into the hole when their home position
  // does not lie cyclically within (hole, their position].
  for (size_t j = (i + 1) & mask_; cells_[j].slot != kNone; j = (j + 1) & mask_) {
    const size_t h = home(cells_[j].key);
    const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (stays) continue;
    cells_[i] = cells_[j];
    i = j;
  }
  cells_[i] = Cell{};
  --hashed_;
  --size_;
}

void KeySlots::grow() {
  std::vector<Cell> old = std::move(cells_);
  const size_t n = old.empty() ? 16 : old.size() * 2;
  cells_.assign(n, Cell{});
  mask_ = n - 1;
  shift_ = 64;
  for (size_t m = n; m > 1; m >>= 1) --shift_;
  size_ -= hashed_;
  hashed_ = 0;
  for (const Cell& c : old) {
    if (c.slot != kNone) insert(c.key, c.slot);
  }
}

}  // namespace dsim
