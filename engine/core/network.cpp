#include "core/network.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace dsim {

namespace {
constexpr uint8_t kFromSide = 1;
constexpr uint8_t kToSide = 2;
}  // namespace

NetworkCondition NetworkCondition::one_way_partition(std::string name, std::vector<uint32_t> a,
                                                     std::vector<uint32_t> b, Block mode) {
  NetworkCondition c;
  c.name = std::move(name);
  c.from = std::move(a);
  c.to = std::move(b);
  c.legs = kRequests;           // a's calls to b never arrive...
  c.reverse_legs = kResponses;  // ...and b's calls to a arrive, but their answers do not
  c.block = mode;
  return c;
}

NetworkCondition NetworkCondition::partition(std::string name, std::vector<uint32_t> a,
                                             std::vector<uint32_t> b, Block mode) {
  NetworkCondition c;
  c.name = std::move(name);
  c.from = std::move(a);
  c.to = std::move(b);
  c.legs = kBothLegs;
  c.reverse_legs = kBothLegs;
  c.block = mode;
  return c;
}

void Network::set_size(uint64_t root_seed, size_t components) {
  root_seed_ = root_seed;
  components_ = components;
  for (Active& a : conditions_) index_sides(a);
}

void Network::index_sides(Active& a) const {
  a.side.assign(components_, 0);
  for (uint32_t i : a.condition.from) {
    if (i < components_) a.side[i] |= kFromSide;
  }
  for (uint32_t i : a.condition.to) {
    if (i < components_) a.side[i] |= kToSide;
  }
}

Network::Id Network::add(NetworkCondition condition) {
  Active a;
  a.id = next_id_++;
  // Streams per purpose, so that adding latency to a condition does not shift its loss draws.
  const std::string stream = "network:" + condition.name;
  a.loss_rng = Rng::derive(root_seed_, stream, "loss");
  a.latency_rng = Rng::derive(root_seed_, stream, "latency");
  a.duplication_rng = Rng::derive(root_seed_, stream, "duplication");
  a.condition = std::move(condition);
  index_sides(a);
  conditions_.push_back(std::move(a));
  active_ = true;
  return conditions_.back().id;
}

bool Network::change(Id id, NetworkCondition condition) {
  for (Active& a : conditions_) {
    if (a.id != id) continue;
    a.condition = std::move(condition);
    index_sides(a);
    return true;
  }
  return false;
}

bool Network::remove(Id id) {
  const auto it = std::find_if(conditions_.begin(), conditions_.end(),
                               [id](const Active& a) { return a.id == id; });
  if (it == conditions_.end()) return false;
  conditions_.erase(it);
  active_ = !conditions_.empty();
  return true;
}

bool Network::contains(Id id) const {
  return std::any_of(conditions_.begin(), conditions_.end(),
                     [id](const Active& a) { return a.id == id; });
}

Network::Id Network::find(std::string_view name) const {
  for (const Active& a : conditions_) {
    if (a.condition.name == name) return a.id;
  }
  return 0;
}

// Whether condition `c` (with its `side` table) acts on a message on leg `leg_bit` of a call from
// caller_side to callee_side: a call from `from` to `to` on one of its legs, or from `to` to `from`
// on one of its reverse legs.
static bool acts_on(const NetworkCondition& c, const std::vector<uint8_t>& side, uint8_t leg_bit,
                    uint32_t caller_side, uint32_t callee_side) {
  const uint8_t caller = side[caller_side];
  const uint8_t callee = side[callee_side];
  return ((c.legs & leg_bit) && (caller & kFromSide) && (callee & kToSide)) ||
         ((c.reverse_legs & leg_bit) && (caller & kToSide) && (callee & kFromSide));
}

bool Network::blocks(Leg leg, uint32_t caller_side, uint32_t callee_side) const {
  if (caller_side >= components_ || callee_side >= components_) return false;
  const uint8_t leg_bit = static_cast<uint8_t>(leg);
  for (const Active& a : conditions_) {
    const NetworkCondition& c = a.condition;
    if (c.block != NetworkCondition::Block::none &&
        acts_on(c, a.side, leg_bit, caller_side, callee_side)) {
      return true;
    }
  }
  return false;
}

NetworkVerdict Network::judge(Leg leg, uint32_t caller_side, uint32_t callee_side) {
  NetworkVerdict v;
  if (caller_side >= components_ || callee_side >= components_) return v;
  const uint8_t leg_bit = static_cast<uint8_t>(leg);
  bool refused = false;
  for (Active& a : conditions_) {
    const NetworkCondition& c = a.condition;
    if (!acts_on(c, a.side, leg_bit, caller_side, callee_side)) continue;
    // A blackhole anywhere on the path wins: the message is gone before anything can refuse it.
    if (c.block == NetworkCondition::Block::blackhole) {
      v.fate = NetworkVerdict::Fate::lose;
      return v;
    }
    if (c.block == NetworkCondition::Block::reject) {
      refused = true;
      continue;
    }
    if (refused) continue;  // (no draws for a message that will be refused)
    if (c.loss > 0 && a.loss_rng.uniform01() < c.loss) {
      v.fate = NetworkVerdict::Fate::lose;
      return v;
    }
    if (c.delays) v.delay = v.delay + c.latency.sample(a.latency_rng);
    if (leg == Leg::request && c.duplication > 0 && a.duplication_rng.uniform01() < c.duplication) {
      v.duplicate = true;
    }
  }
  if (refused) {
    v = NetworkVerdict{};
    v.fate = NetworkVerdict::Fate::refuse;
  }
  return v;
}

}  // namespace dsim
