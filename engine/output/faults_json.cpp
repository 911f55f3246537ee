#include "output/faults_json.hpp"

#include "core/simulation.hpp"
#include "output/fixed_point.hpp"
#include "output/json_writer.hpp"

namespace dsim {

std::string format_faults_json(const std::string& scenario, const std::vector<FaultWindow>& faults,
                               bool complete, Time simulated) {
  JsonWriter j;
  j.begin_object();
  j.key("schema").value("dsim.faults/1");
  j.key("scenario").value(scenario);
  j.key("complete").value(complete);
  j.key("simulated_s").raw_number(fixed_point_text(simulated.count_ns(), 9));
  j.key("faults").begin_array();
  for (const FaultWindow& f : faults) {
    j.begin_object();
    j.key("name").value(f.name);
    j.key("kind").value(f.kind);
    j.key("targets").begin_array();
    for (const std::string& t : f.targets) j.value(t);
    j.end_array();
    j.key("start_s").raw_number(fixed_point_text(f.start.count_ns(), 9));
    j.key("end_s");
    if (f.active()) {
      j.null();  // still active when the run ended
    } else {
      j.raw_number(fixed_point_text(f.end.count_ns(), 9));
    }
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.str();
}

std::string format_faults_json(const Simulation& sim) {
  return format_faults_json(sim.scenario_name(), sim.fault_windows(), sim.complete(), sim.now());
}

}  // namespace dsim
