// service: c parallel workers in front of a bounded waiting room.
//
// A request that finds a free worker starts at once; otherwise it waits (FIFO, LIFO or by
// priority); when the waiting room is full it is dropped with reason queue_full. After its service
// time the request moves on along `next` or, with no next, completes here.
#pragma once

#include "components/route.hpp"
#include "components/wait_queue.hpp"
#include "core/component.hpp"
#include "core/params.hpp"

namespace dsim {

struct ServiceParams : ParamsOf<ServiceParams> {
  int64_t workers = 1;
  int64_t queue_capacity = INT64_MAX;  // unbounded
  int discipline = 0;                  // index into kDisciplineNames
  Distribution service_time;
  RouteSpec next;
  bool shed_expired = false;

  static constexpr const char* kDisciplineNames[] = {"fifo", "lifo", "priority", nullptr};
  void describe(ParamVisitor& v) override;
};

class Service final : public Component {
 public:
  Service(const std::string& name, std::unique_ptr<ComponentParams> params);
  void start(Simulation& sim) override;
  void accept(Simulation& sim, RequestHandle h) override;
  void on_event(Simulation& sim, const Event& e) override;
  void on_params_changed(Simulation& sim, const std::string& param) override;

  const ServiceParams& config() const { return p_; }

 private:
  void begin_service(Simulation& sim, RequestHandle h);
  void pull_from_queue(Simulation& sim);
  void update_capacity(Simulation& sim);

  ServiceParams& p_;
  WaitQueue waiting_;
  Router router_;
  Rng service_rng_;
  Rng routing_rng_;
  int64_t busy_ = 0;
};

}  // namespace dsim
