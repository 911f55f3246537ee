// The network between components: the conditions (partitions, latency, loss, duplication) that
// decide what happens to each message a call sends.
//
// Every call is two messages: the request (caller -> callee, or forwarder -> next component) and
// the response (callee -> caller). With no condition active both are handed over at once, inside
// Simulation::deliver and Simulation::reply; the Simulation asks this model only while a
// condition is active (one predictable branch on the hot path otherwise). A condition matches
// messages by the call they belong to - calls from a component of `from` to one of `to`, and,
// for conditions that act both ways, calls from `to` to `from` - and by leg (request, response).
// Its verdict on a message: deliver it (perhaps later, perhaps twice), lose it, or refuse it.
//
// Several conditions may be active at once, each under an id given when it was added, so the
// fault layer can change or remove it live. Each condition draws from its own random streams,
// derived from the root seed and its name: the same scenario, seed and timeline give the same
// fates, message for message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/distribution.hpp"
#include "core/random.hpp"
#include "core/time.hpp"

namespace dsim {

// Which leg of a call a message is.
enum class Leg : uint8_t { request = 1, response = 2 };
// Sets of legs, as bit masks.
inline constexpr uint8_t kNoLegs = 0;
inline constexpr uint8_t kRequests = static_cast<uint8_t>(Leg::request);
inline constexpr uint8_t kResponses = static_cast<uint8_t>(Leg::response);
inline constexpr uint8_t kBothLegs = kRequests | kResponses;

// What a network condition does, and to which messages.
struct NetworkCondition {
  enum class Block : uint8_t {
    none,       // messages pass (subject to loss, latency, duplication)
    blackhole,  // messages vanish: the caller waits for its timeout (or for ever)
    reject,     // connection refused: the caller fails at once (Reason::connection_refused)
  };
  std::string name;                // the fault's name: names its random streams
  std::vector<uint32_t> from;      // component indices on the calling side
  std::vector<uint32_t> to;        // component indices on the called side
  uint8_t legs = kBothLegs;        // legs of calls from `from` to `to` that it acts on
  uint8_t reverse_legs = kNoLegs;  // legs of calls from `to` to `from` that it acts on
  Block block = Block::none;
  double loss = 0;         // probability that a matched message is lost, in [0, 1]
  bool delays = false;     // whether `latency` applies
  Distribution latency;    // extra delay of each matched message
  double duplication = 0;  // probability that a matched request is delivered twice, in [0, 1]

  // Messages from `a` to `b` vanish or are refused; calls from `b` to `a` still get their
  // requests through, but not their answers (a one-way cut, as a firewall dropping a -> b).
  static NetworkCondition one_way_partition(std::string name, std::vector<uint32_t> a,
                                            std::vector<uint32_t> b, Block mode);
  // No message crosses between `a` and `b`, either way.
  static NetworkCondition partition(std::string name, std::vector<uint32_t> a,
                                    std::vector<uint32_t> b, Block mode);
};

// The fate of one message.
struct NetworkVerdict {
  enum class Fate : uint8_t { deliver, lose, refuse };
  Fate fate = Fate::deliver;
  bool duplicate = false;  // (requests) the callee receives it twice
  Time delay;              // added before it arrives
};

// Totals since the start of the run, for tests and summaries.
struct NetworkTally {
  uint64_t requests_lost = 0;
  uint64_t responses_lost = 0;
  uint64_t refused = 0;
  uint64_t duplicated = 0;
  uint64_t delayed = 0;
};

class Network {
 public:
  using Id = uint64_t;

  // `components`: how many components the simulation has (indices are below it).
  void set_size(uint64_t root_seed, size_t components);

  // Adds a condition, active from now; returns its id (ids are never reused).
  Id add(NetworkCondition condition);
  // Replaces a condition in place (its random streams carry on). False for an unknown id.
  bool change(Id id, NetworkCondition condition);
  // Ends a condition. Messages already delayed by it still arrive when due. False if unknown.
  bool remove(Id id);
  bool contains(Id id) const;
  // The id of the condition with this name (the fault's), or 0 if there is none.
  Id find(std::string_view name) const;

  // True while any condition is active: the only thing the hot path asks.
  bool active() const { return active_; }
  size_t condition_count() const { return conditions_.size(); }

  // The fate of a message on `leg` of a call from `caller_side` to `callee_side`. Draws from the
  // matching conditions' streams, in the order they were added.
  NetworkVerdict judge(Leg leg, uint32_t caller_side, uint32_t callee_side);
  // Whether a message on `leg` of such a call cannot get through at all now (a blackhole or a
  // refusal: a partition), without drawing from any stream: for a load balancer's health probes,
  // which must not shift the fates of the real calls.
  bool blocks(Leg leg, uint32_t caller_side, uint32_t callee_side) const;

  NetworkTally& tally() { return tally_; }
  const NetworkTally& tally() const { return tally_; }

 private:
  struct Active {
    Id id = 0;
    NetworkCondition condition;
    std::vector<uint8_t> side;  // per component: bit 0 in `from`, bit 1 in `to`
    Rng loss_rng;
    Rng latency_rng;
    Rng duplication_rng;
  };
  void index_sides(Active& a) const;

  uint64_t root_seed_ = 0;
  size_t components_ = 0;
  Id next_id_ = 1;
  bool active_ = false;
  std::vector<Active> conditions_;  // in the order they were added
  NetworkTally tally_;
};

}  // namespace dsim
